"""The flood quarantine (design rule 9, docs/caller.md): when self-service submissions jump, their hashes are held
for review (never in any partner's feed or push) until a supervisor releases or rejects the held batch.

These tests commit, as requests do: the feed serves only changes no running transaction can slip beneath.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from cases import actions as cases
from cases.models import Case, CaseEvent, Contact, HashingLink
from hashing.models import BankHash
from partners import feed, onboarding
from tests.calls import image, issue_code, open_case, self_service, submit, values
from tests.conftest import make_staff, signed_in_client
from tests.helpers import ACTOR, fetch_all, live_partner


@pytest.fixture
def people(transactional_db):
    return {role: make_staff(f"{role}@helpline.test", role, name=role.title())
            for role in ("caseworker", "supervisor", "partner_manager", "administrator")}


@pytest.fixture
def partner(transactional_db):
    partner = live_partner()
    key, secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    return partner, key, secret


def in_feed(partner):
    """What the partner's native feed and its push (the same pages, partners.feed.page) hand out as active."""
    _partner, key, secret = partner
    records, _cursor = fetch_all(key, secret, limit=100)
    pushed, _end, _more = feed.page(_partner, (0, 0), 1000)
    assert {(r["signal_type"], r["value"], r["status"]) for r in pushed} == {
        (r["signal_type"], r["value"], r["status"]) for r in records}
    return {r["value"] for r in records if r["status"] == "active"}


def test_a_flood_is_held_until_a_supervisor_releases_it(people, partner, settings):
    settings.SELF_SERVICE_FLOOD_LIMIT = 3
    settings.SELF_SERVICE_FLOOD_FLOOR = 3
    quiet = [image(n, quality=100) for n in range(1, 4)]
    flood = [image(n, quality=100) for n in range(4, 7)]
    for n, item in enumerate(quiet + flood):
        assert self_service(n, [item]).status_code == 200
    assert in_feed(partner) == values(*quiet)  # the fourth submission in the hour and after: held
    held = set(BankHash.objects.quarantined().values_list("value", flat=True))
    assert held == values(*flood) and not held & set(BankHash.objects.shareable().values_list("value", flat=True))
    # A caseworker's link is never held by it, flood or not.
    assisted = open_case(people["caseworker"])
    submit(issue_code(assisted, people["caseworker"]), [image(7)])
    assert values(image(7)) <= in_feed(partner)
    assert not BankHash.objects.quarantined().filter(value__in=values(image(7))).exists()

    # Supervisors were told once, by mail and on the dashboard; the timeline says why nothing was shared.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [people["supervisor"].email]
    assert reverse("review_queue") in mail.outbox[0].body and image(4)["pdq"] not in mail.outbox[0].body
    supervisor = signed_in_client(people["supervisor"])
    dashboard = supervisor.get(reverse("dashboard")).content.decode()
    assert "9 self-service hashes held for review" in dashboard
    assert "held for review" not in signed_in_client(people["caseworker"]).get(reverse("dashboard")).content.decode()
    flooded = Case.objects.get(items__md5=image(4)["md5"])
    assert "3 hashes held for review: self-service flood" in flooded.events.get(kind=CaseEvent.Kind.ITEMS_ADDED
                                                                                ).summary()

    # The queue: a supervisor sees the held batch; a partner manager sees partners' hashes only, and neither a
    # manager nor a caseworker may release it.
    queue = supervisor.get(reverse("review_queue")).content.decode()
    assert "Held by the flood quarantine" in queue and "Release all 9" in queue
    manager = signed_in_client(people["partner_manager"])
    assert "Held by the flood quarantine" not in manager.get(reverse("review_queue")).content.decode()
    for client in (manager, signed_in_client(people["caseworker"])):
        assert client.post(reverse("review_quarantine"), {"decision": "approve"}).status_code == 403
    one = BankHash.objects.quarantined().first()
    manager.post(reverse("review_decide", args=[one.pk]), {"decision": "approve"})
    assert BankHash.objects.quarantined().count() == 9  # not a manager's to decide

    released = supervisor.post(reverse("review_quarantine"), {"decision": "approve"}, follow=True)
    assert "9 held hashes released" in released.content.decode()
    assert values(*flood) <= in_feed(partner) and not BankHash.objects.quarantined().exists()
    event = AuditEvent.objects.get(action="bank.quarantine_approve")
    assert event.actor == people["supervisor"] and event.details == {"hashes": 9}


def test_a_rejected_batch_is_never_shared(people, partner, settings):
    settings.SELF_SERVICE_HOLD_ALL = True  # every self-service hash waits for a person
    planted = image(20, quality=100)
    assert self_service(1, [planted]).status_code == 200
    supervisor = signed_in_client(people["supervisor"])
    supervisor.post(reverse("review_quarantine"), {"decision": "reject"})
    assert set(BankHash.objects.filter(review=BankHash.Review.REJECTED).values_list("value", flat=True)) == values(
        planted)
    assert AuditEvent.objects.get(action="bank.quarantine_reject").details == {"hashes": 3}
    # Nothing the client chooses later brings it back: another case holding it, a higher quality claim, a
    # caseworker's link. It stays out of the queue, and out of every feed.
    again = {**planted, "md5": f"{99:032x}"}
    submit(issue_code(open_case(people["caseworker"]), people["caseworker"]), [again])
    assert not values(planted) & in_feed(partner)
    assert "Nothing is held." in supervisor.get(reverse("review_queue")).content.decode()
    assert len(mail.outbox) == 1  # one batch, one mail


def test_holding_never_unshares_what_is_shared_and_holds_what_comes_back(people, partner, settings):
    caseworker = people["caseworker"]
    shared, withdrawn = image(30), image(31)
    submit(issue_code(open_case(caseworker), caseworker), [shared])
    gone = open_case(caseworker)
    submit(issue_code(gone, caseworker), [withdrawn])
    cases.withdraw_case(gone)
    settings.SELF_SERVICE_HOLD_ALL = True
    response = self_service(1, [shared, withdrawn])
    assert response.status_code == 200
    # A flood must not take other callers' hashes out of partners' blocklists; a withdrawn hash it brings back
    # is held like a new one.
    assert values(shared) <= in_feed(partner) and not values(withdrawn) & in_feed(partner)
    assert set(BankHash.objects.quarantined().values_list("value", flat=True)) == values(withdrawn)
    # The caller's own status page: held files are received, not shared yet.
    client = Client()
    client.post(reverse("caller:status"), {"reference": Case.objects.get(contacts__channel="self_service")
                                           .reference, "pin": response.json()["pin"]})
    page = client.get(reverse("caller:case")).content.decode()
    assert page.count("not shared yet") == 1


def test_the_budget_follows_the_usual_rate(people, partner, settings):
    settings.SELF_SERVICE_FLOOD_LIMIT = 100
    settings.SELF_SERVICE_FLOOD_FLOOR = 2
    settings.SELF_SERVICE_FLOOD_FACTOR = 2
    settings.SELF_SERVICE_FLOOD_BASELINE_DAYS = 1
    # Yesterday, 46 self-service submissions: 2 an hour is this helpline's usual, so 4 an hour is not a flood.
    now = timezone.now()
    for n in range(46):
        _contact, code = cases.start_self_service(language="en-gb", **{
            k: True for k in ("in_content", "adult_in_content", "intimate", "has_files")})
        HashingLink.objects.filter(case__contacts=_contact).update(used_at=now - timedelta(hours=1, minutes=n * 29))
    assert Contact.objects.count() == 46
    results = [self_service(n, [image(40 + n)]) for n in range(5)]
    assert [r.status_code for r in results] == [200] * 5
    assert in_feed(partner) == values(*(image(40 + n) for n in range(4)))
    assert set(BankHash.objects.quarantined().values_list("value", flat=True)) == values(image(44))
