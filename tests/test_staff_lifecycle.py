"""Administrators invite, deactivate and reset staff; sessions end when they must."""

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.core import mail
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from staff import actions
from staff.middleware import SEEN, STARTED
from staff.models import User
from tests.conftest import PASSWORD
from tests.helpers import sign_in_fully


def test_invitation_sets_a_password_then_requires_mfa(login_as, administrator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = login_as(administrator).post(reverse("staff_invite"), {
            "email": "Robin@Helpline.test", "name": "Robin", "roles": ["caseworker"],
        })
    assert response.status_code == 302
    robin = User.objects.get(email="robin@helpline.test")
    assert robin.roles == {"caseworker"} and not robin.has_usable_password()
    assert AuditEvent.objects.filter(action="staff.invited", target_id=str(robin.pk), actor=administrator).exists()

    (message,) = mail.outbox
    assert message.to == ["robin@helpline.test"]
    link = re.search(r"https?://\S+", message.body).group(0)
    client = Client()
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    new_password = "a sturdy new passphrase 42"
    client.post(form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
                {"password1": new_password, "password2": new_password})
    robin.refresh_from_db()
    assert robin.check_password(new_password)

    client.post(reverse("account_login"), {"login": robin.email, "password": new_password})
    assert client.get(reverse("dashboard"))["Location"] == reverse("mfa_activate_totp")


def test_invite_form_reports_errors_on_fields(login_as, administrator, caseworker):
    response = login_as(administrator).post(reverse("staff_invite"), {"email": caseworker.email, "roles": []})
    page = response.content.decode()
    assert response.status_code == 400
    assert "already exists" in page
    assert 'id="id_roles_errors"' in page and re.search(r'aria-describedby="[^"]*\bid_roles_errors\b', page)


def test_deactivation_ends_live_sessions_at_once(login_as, administrator, caseworker):
    victim = sign_in_fully(caseworker)
    assert UserSession.objects.filter(user=caseworker).count() == 1
    login_as(administrator).post(reverse("staff_deactivate", args=[caseworker.pk]))
    assert UserSession.objects.filter(user=caseworker).count() == 0
    response = victim.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    # and cannot sign in again: the right password leads to the "inactive" page, not to the second step.
    retry_client = Client()
    retry = retry_client.post(reverse("account_login"), {"login": caseworker.email, "password": PASSWORD})
    assert retry.status_code == 302 and retry["Location"] == reverse("account_inactive")
    refused = retry_client.get(reverse("dashboard"))
    assert refused.status_code == 302 and refused["Location"].startswith(reverse("account_login"))
    assert AuditEvent.objects.filter(action="staff.deactivated", target_id=str(caseworker.pk)).exists()


def test_lost_authenticator_reset_also_resets_the_password(login_as, administrator, caseworker,
                                                            django_capture_on_commit_callbacks):
    victim = sign_in_fully(caseworker)
    with django_capture_on_commit_callbacks(execute=True):
        login_as(administrator).post(reverse("staff_reset_mfa", args=[caseworker.pk]))
    assert not Authenticator.objects.filter(user=caseworker).exists()
    assert victim.get(reverse("dashboard")).status_code == 302
    event = AuditEvent.objects.get(action="staff.mfa_reset_by_admin")
    assert event.details == {"removed": ["totp"]} and event.actor == administrator

    # Whoever holds the lost phone and knows the password gets nowhere: not even to the enrolment page.
    finder = Client()
    stolen = finder.post(reverse("account_login"), {"login": caseworker.email, "password": PASSWORD})
    assert stolen.status_code == 200
    enrol = finder.get(reverse("mfa_activate_totp"))
    assert enrol.status_code == 302 and enrol["Location"].startswith(reverse("account_login"))

    # The owner gets a set-password link by email, then must enrol again.
    (message,) = mail.outbox
    assert message.to == [caseworker.email] and "two-factor" in message.body
    link = re.search(r"https?://\S+", message.body).group(0)
    owner = Client()
    form_page = owner.get(link, follow=True)
    new_password = "another sturdy passphrase 7"
    owner.post(form_page.redirect_chain[-1][0], {"password1": new_password, "password2": new_password})
    owner.post(reverse("account_login"), {"login": caseworker.email, "password": new_password})
    assert owner.get(reverse("dashboard"))["Location"] == reverse("mfa_activate_totp")


def test_resending_an_invitation_is_audited(login_as, administrator, newcomer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        login_as(administrator).post(reverse("staff_resend_invitation", args=[newcomer.pk]))
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [newcomer.email]
    event = AuditEvent.objects.get(action="staff.invitation_sent")
    assert event.actor == administrator and event.target_id == str(newcomer.pk)


@pytest.fixture
def failing_audit(monkeypatch):
    """Every audit insert fails, as it would if the database refused it."""

    def refuse(self, *args, **kwargs):
        raise DatabaseError("audit insert refused")

    monkeypatch.setattr(AuditEvent, "save", refuse)


def test_no_change_without_its_audit_row(rf, administrator, caseworker, failing_audit,
                                         django_capture_on_commit_callbacks):
    request = rf.post("/")
    request.user = administrator
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(DatabaseError):
            actions.set_roles(caseworker, ["supervisor"], by=administrator)
        with pytest.raises(DatabaseError):
            actions.deactivate_staff(caseworker, by=administrator)
        with pytest.raises(DatabaseError):
            actions.reset_authenticators(request, caseworker, by=administrator)
        with pytest.raises(DatabaseError):
            actions.resend_invitation(request, caseworker, by=administrator)
        with pytest.raises(DatabaseError):
            actions.invite_staff(request, email="robin@helpline.test", name="", role_names=["caseworker"],
                                 by=administrator)
    caseworker = User.objects.get(pk=caseworker.pk)
    assert caseworker.roles == {"caseworker"} and caseworker.is_active
    assert caseworker.check_password(PASSWORD)
    assert Authenticator.objects.filter(user=caseworker).exists()
    assert not User.objects.filter(email="robin@helpline.test").exists()
    assert callbacks == [] and mail.outbox == []


def age_session(client, **offsets):
    session = client.session
    for key, seconds in offsets.items():
        session[key] = time.time() - seconds
    session.save()


def test_idle_session_times_out(caseworker, settings):
    client = sign_in_fully(caseworker)
    age_session(client, **{SEEN: settings.SESSION_IDLE_TIMEOUT - 60})
    assert client.get(reverse("dashboard")).status_code == 200
    age_session(client, **{SEEN: settings.SESSION_IDLE_TIMEOUT + 1})
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_session_has_an_absolute_age(caseworker, settings):
    client = sign_in_fully(caseworker)
    age_session(client, **{STARTED: settings.SESSION_MAX_AGE + 1, SEEN: 5})  # active, but too old
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_cannot_lock_yourself_out(login_as, administrator):
    client = login_as(administrator)
    client.post(reverse("staff_deactivate", args=[administrator.pk]))
    client.post(reverse("staff_detail", args=[administrator.pk]), {"roles": ["caseworker"]})
    administrator.refresh_from_db()
    assert administrator.is_active and "administrator" in administrator.roles


def test_staff_list_does_not_query_per_person(login_as, administrator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import make_staff

    client = login_as(administrator)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("staff_list")).status_code == 200
        return len(captured)

    queries()  # the first request of a session also writes the session
    few = queries()
    for n in range(6):
        make_staff(f"extra{n}@helpline.test", "caseworker")
    assert queries() == few
