"""Every staff form POST answers a redirect (post/redirect/get) with a message, so a reload reloads the page and
never sends the form again; a POST to a page that takes no form is refused; a GET on an address that takes only
a POST goes to its page, not to a blank 405.

The walk covers every staff route in the URL resolver: a new form is covered the day it is added, and fails
until FORMS below says what to send it."""

from datetime import UTC, datetime

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from cases import actions
from core import access
from partners import onboarding, outcomes
from partners.models import Partner
from staff import roles
from takedowns import actions as takedowns
from takedowns.models import TakedownRequest
from tests.calls import ensure_checklist, open_case
from tests.conftest import make_staff, signed_in_client
from tests.helpers import ACTOR, live_partner
from tests.takedown_calls import described, paste

OURS = ("staff.", "audit.", "cases.", "hashing.", "partners.", "takedowns.", "ncii_portal.", "stats.")
SAMPLE = {"IntConverter": 1, "StringConverter": "sample", "SlugConverter": "sample", "MonthNumber": 1}


def patterns(entries):
    for entry in entries:
        if isinstance(entry, URLResolver) and not entry.namespace:  # the caller's pages and the API have theirs
            yield from patterns(entry.url_patterns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry


def staff_routes():
    """{url name: its view} for every staff page and form of ours (not the caller's pages, the API, the admin or
    the account pages)."""
    routes = {}
    for entry in patterns(get_resolver().url_patterns):
        if not entry.callback.__module__.startswith(OURS):
            continue
        kwargs = {name: SAMPLE[type(c).__name__] for name, c in entry.pattern.converters.items()}
        match = resolve(reverse(entry.name, kwargs=kwargs))
        if not access.is_public(match):
            routes[entry.name] = kwargs
    return routes


ROUTES = staff_routes()


@pytest.fixture
def world(db, settings, receiver):
    """A person with every role, and one of each thing a staff form acts on."""
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    ensure_checklist()
    everyone = make_staff("all@helpline.test", *roles.ALL, name="All")
    colleague = make_staff("robin@helpline.test", roles.CASEWORKER, name="Robin")
    case = open_case(everyone)
    link, _code = actions.issue_link(case, by=everyone)
    contact = actions.take_contact(by=everyone, channel="phone", in_content=True, adult_in_content=True,
                                   intimate=True, has_files=True, abuse_type="shared")
    partner = live_partner()
    onboarding.set_checklist(partner, **ACTOR, agreement_signed=True)
    prospect = onboarding.create_partner(name="Prospect", slug="prospect", **ACTOR)
    contact_person = onboarding.add_contact(partner, by=everyone, name="Ada", email="ada@tiktak.example")
    key, _secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    other_key, _other_secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    outcomes.contribute(partner, [{"signal_type": "md5", "value": "e" * 32, "outcome": "Blocked",
                                   "acted_at": datetime.now(UTC)}])
    from hashing.models import BankHash

    held = BankHash.objects.get(value="e" * 32)
    site = described("example.org")
    described("hoster.example")  # escalations go to it by mail
    paste(case, everyone, [f"https://example.org/{n}" for n in range(1, 6)])
    addresses = list(case.web_addresses.order_by("pk"))

    def asked(address, method="web_form"):
        return takedowns.request_takedown(case, site, [address], method=method, basis="site_policy", by=everyone)

    failed = asked(addresses[2], method="mail")
    TakedownRequest.objects.filter(pk=failed.pk).update(state=TakedownRequest.State.FAILED)
    line = case.evidence.first()
    template_item = line.template
    return {"everyone": everyone, "colleague": colleague, "case": case, "link": link, "contact": contact,
            "partner": partner, "prospect": prospect, "contact_person": contact_person, "key": key,
            "other_key": other_key, "held": held, "line": line, "template_item": template_item,
            "receiver": receiver(), "site": site, "addresses": addresses, "to_remind": asked(addresses[0]),
            "to_escalate": asked(addresses[1]), "failed": failed}


# url name: (kwargs, form data) from the world; the section of the page it goes back to, or None for a new page.
FORMS = {
    "contact_new": (lambda w: {}, lambda w: {"channel": "phone", "language": "en-gb", "caller": "subject",
                                             "in_content": "yes", "adult_in_content": "yes", "intimate": "yes",
                                             "has_files": "yes", "abuse_type": "shared"}),
    "contact_open_case": (lambda w: {"pk": w["contact"].pk}, lambda w: {}),
    "case_open_by_reference": (lambda w: {"reference": w["case"].reference}, lambda w: {}),
    "case_issue_link": (lambda w: {"reference": w["case"].reference}, lambda w: {}),
    "link_revoke": (lambda w: {"reference": w["case"].reference, "pk": w["link"].pk}, lambda w: {}),
    "case_assign": (lambda w: {"reference": w["case"].reference}, lambda w: {"caseworker": w["colleague"].pk}),
    "case_checklist": (lambda w: {"reference": w["case"].reference},
                       lambda w: {f"state-{w['line'].pk}": "done", f"note-{w['line'].pk}": "4 screenshots"}),
    "case_referral": (lambda w: {"reference": w["case"].reference}, lambda w: {"to": "police", "status": "made"}),
    "case_note": (lambda w: {"reference": w["case"].reference}, lambda w: {"text": "Called back."}),
    "web_addresses_add": (lambda w: {"reference": w["case"].reference},
                          lambda w: {"addresses": "https://example.org/more"}),
    "web_address_remove": (lambda w: {"reference": w["case"].reference, "pk": w["addresses"][4].pk}, lambda w: {}),
    "takedown_request_new": (lambda w: {"reference": w["case"].reference},
                             lambda w: {"site": w["site"].pk, "address": [w["addresses"][3].pk],
                                        "method": "web_form", "basis": "site_policy"}),
    "web_addresses_outcome": (lambda w: {"reference": w["case"].reference},
                              lambda w: {"address": [w["addresses"][3].pk], "outcome": "removed"}),
    "takedown_remind": (lambda w: {"reference": w["case"].reference, "pk": w["to_remind"].pk},
                        lambda w: {"method": "web_form"}),
    "takedown_escalate": (lambda w: {"reference": w["case"].reference, "pk": w["to_escalate"].pk},
                          lambda w: {"hosting_domain": "hoster.example"}),
    "takedown_send_again": (lambda w: {"reference": w["case"].reference, "pk": w["failed"].pk}, lambda w: {}),
    "site_list": (lambda w: {}, lambda w: {"new-domain": "newsite.example", "new-name": "Newsite",
                                           "new-kind": "forum", "new-language": "en"}),
    "site_detail": (lambda w: {"pk": w["site"].pk}, lambda w: {"domain": "example.org", "name": "Example",
                                                              "kind": "forum", "language": "en"}),
    "case_move": (lambda w: {"reference": w["case"].reference},
                  lambda w: {"move": "close", "reason": "resolved", "confirm": "yes"}),
    "evidence_template": (lambda w: {}, lambda w: {"label": "Hospital letter", "position": 9}),
    "evidence_template_item": (lambda w: {"pk": w["template_item"].pk},
                               lambda w: {"label": "Screenshots", "position": 1, "active": "on"}),
    "partner_list": (lambda w: {}, lambda w: {"name": "Newco", "slug": "newco", "delivery": "pull"}),
    "partner_move": (lambda w: {"slug": w["prospect"].slug}, lambda w: {"move": "start_vetting"}),
    "partner_checklist": (lambda w: {"slug": w["partner"].slug}, lambda w: {"agreement_signed": "on"}),
    "partner_contact_add": (lambda w: {"slug": w["partner"].slug},
                            lambda w: {"name": "Bo", "email": "bo@tiktak.example", "role": "technical"}),
    "partner_contact_remove": (lambda w: {"slug": w["partner"].slug, "pk": w["contact_person"].pk}, lambda w: {}),
    "partner_webhook_set": (lambda w: {"slug": w["partner"].slug}, lambda w: {"url": w["receiver"].url}),
    "partner_webhook_test": (lambda w: {"slug": w["partner"].slug}, lambda w: {}),
    "partner_webhook_rotate": (lambda w: {"slug": w["partner"].slug}, lambda w: {}),
    "partner_push_pause": (lambda w: {"slug": w["partner"].slug}, lambda w: {}),
    "partner_push_resume": (lambda w: {"slug": w["partner"].slug}, lambda w: {}),
    "partner_key_issue": (lambda w: {"slug": w["partner"].slug}, lambda w: {"scopes": ["fetch"]}),
    "partner_key_rotate": (lambda w: {"slug": w["partner"].slug, "pk": w["key"].pk}, lambda w: {}),
    "partner_key_revoke": (lambda w: {"slug": w["partner"].slug, "pk": w["other_key"].pk}, lambda w: {}),
    "review_decide": (lambda w: {"pk": w["held"].pk}, lambda w: {"decision": "approve"}),
    "review_quarantine": (lambda w: {}, lambda w: {"decision": "approve"}),
    "staff_invite": (lambda w: {}, lambda w: {"email": "kim@helpline.test", "name": "Kim", "roles": ["caseworker"]}),
    "staff_detail": (lambda w: {"pk": w["colleague"].pk}, lambda w: {"roles": ["caseworker", "supervisor"]}),
    "staff_resend_invitation": (lambda w: {"pk": w["colleague"].pk}, lambda w: {}),
    "staff_reset_mfa": (lambda w: {"pk": w["colleague"].pk}, lambda w: {}),
    "staff_deactivate": (lambda w: {"pk": w["colleague"].pk}, lambda w: {}),
    "staff_reactivate": (lambda w: {"pk": w["colleague"].pk}, lambda w: {}),
}
# Answers a form with a redirect and no message of its own: there is nothing to report but the page it opens.
QUIET = {"case_open_by_reference"}  # the case is already open to this person: it goes to it


def test_every_staff_form_is_known_to_this_test():
    assert set(FORMS) <= set(ROUTES), set(FORMS) - set(ROUTES)


def test_every_staff_form_post_answers_a_redirect_with_a_message(world):
    client = signed_in_client(world["everyone"])
    wrong = []
    for name, (kwargs, data) in FORMS.items():
        response = client.post(reverse(name, kwargs=kwargs(world)), data(world))
        said = []
        if response.status_code == 302:  # the page it goes to says what was done, once
            page = client.get(response["Location"])
            said = [m.message for m in page.context["messages"]] if page.context else []
        if response.status_code != 302 or not (said or name in QUIET):
            wrong.append(f"{name}: {response.status_code} {said} {response.content.decode()[:200]!r}")
    assert wrong == [], "\n".join(wrong)


def test_a_post_to_a_page_that_takes_no_form_is_refused(world):
    client = signed_in_client(world["everyone"])
    answered = {name: client.post(reverse(name, kwargs=kwargs)).status_code
                for name, kwargs in ROUTES.items() if name not in FORMS}
    assert answered and set(answered.values()) == {405}, answered


def test_a_get_on_a_form_address_goes_to_its_page(world):
    client = signed_in_client(world["everyone"])
    pages = {
        "case_issue_link": reverse("case_detail", args=[world["case"].reference]),
        "partner_key_issue": reverse("partner_detail", args=[world["partner"].slug]),
        "partner_key_revoke": reverse("partner_detail", args=[world["partner"].slug]),
        "contact_open_case": reverse("contact_detail", args=[world["contact"].pk]),
        "review_decide": reverse("review_queue"),
        "staff_deactivate": reverse("staff_detail", args=[world["colleague"].pk]),
    }
    for name, page in pages.items():
        response = client.get(reverse(name, kwargs=FORMS[name][0](world)))
        assert (response.status_code, response.get("Location")) == (302, page), name
    assert world["case"].links.count() == 1 and world["partner"].keys.count() == 2  # a GET changed nothing
    assert Partner.objects.get(pk=world["partner"].pk).state == "live"
