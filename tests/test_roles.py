"""Which role may use which page, written out literally. Add a row for every new staff page."""

import pytest
from django.urls import reverse

from staff import roles

CW, SUP, PM, ADM = roles.CASEWORKER, roles.SUPERVISOR, roles.PARTNER_MANAGER, roles.ADMINISTRATOR

# url name, then the status each role gets: caseworker, supervisor, partner manager, administrator.
MATRIX = [
    ("dashboard",              200, 200, 200, 200),
    ("audit_log",              403, 200, 403, 200),
    ("staff_list",             403, 403, 403, 200),
    ("staff_invite",           403, 403, 403, 200),
    ("staff_detail",           403, 403, 403, 200),
    # The admin sends non-administrators to its login, which refuses them (403) without showing a form.
    ("admin:index",            302, 302, 302, 200),
    ("admin:login",            403, 403, 403, 302),
    ("hasher_check",           200, 200, 200, 200),
    ("contact_new",            200, 200, 403, 403),
    ("case_list",              200, 200, 403, 403),
    ("evidence_template",      403, 403, 403, 200),
    ("partner_list",           403, 403, 200, 200),
    ("review_queue",           403, 200, 200, 200),
    ("stats_dashboard",        403, 200, 403, 200),
    ("site_list",              200, 200, 200, 200),
    ("mfa_index",              200, 200, 200, 200),
    ("usersessions_list",      200, 200, 200, 200),
]
# POST-only actions on a staff member.
POST_MATRIX = [
    ("staff_deactivate",       403, 403, 403, 302),
    ("staff_reactivate",       403, 403, 403, 302),
    ("staff_reset_mfa",        403, 403, 403, 302),
    ("staff_resend_invitation", 403, 403, 403, 302),
    ("review_quarantine",      403, 302, 403, 302),  # the flood quarantine's batch: supervisors decide
]
ORDER = (CW, SUP, PM, ADM)


def url_for(name, target):
    if name.startswith("staff_") and name not in ("staff_list", "staff_invite"):
        return reverse(name, args=[target.pk])
    return reverse(name)




@pytest.mark.parametrize(("method", "row"), [("get", row) for row in MATRIX] + [("post", row) for row in POST_MATRIX],
                         ids=[row[0] for row in MATRIX + POST_MATRIX])
def test_access_matrix(personas, login_as, newcomer, method, row):
    name, *statuses = row
    for role, status in zip(ORDER, statuses, strict=True):
        response = getattr(login_as(personas[role]), method)(url_for(name, newcomer))
        assert response.status_code == status, f"{role} on {name}: {response.status_code}, expected {status}"


def test_navigation_follows_roles(personas, login_as):
    caseworker_page = login_as(personas[CW]).get(reverse("dashboard")).content.decode()
    admin_page = login_as(personas[ADM]).get(reverse("dashboard")).content.decode()
    assert reverse("staff_list") not in caseworker_page
    assert reverse("audit_log") not in caseworker_page
    assert reverse("staff_list") in admin_page
