"""Casework: status moves and their rules, assignment, access by reference with a reason, the checklist and its
template, referrals, notes, the timeline, and query counts that do not grow with the data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent, AuditNote
from cases import actions
from cases.models import Case, CaseEvent, CaseEvidence, CaseNote, EvidenceItem, Notification, Referral
from hashing import actions as bank
from hashing.models import BankHash
from tests.calls import image, issue_code, open_case, submit, video
from tests.conftest import make_staff


@pytest.fixture
def colleague(db):
    return make_staff("robin@helpline.test", "caseworker", name="Robin")


@pytest.fixture
def submitted(caseworker):
    case = open_case(caseworker)
    assert submit(issue_code(case, caseworker), [image(1), video(2)]).status_code == 200
    case.refresh_from_db()
    return case


def post(client, name, case, data):
    return client.post(reverse(name, args=[case.reference]), data)


# --- Status moves -------------------------------------------------------------------------------------------


def test_active_needs_a_shareable_hash(login_as, caseworker, submitted):
    client = login_as(caseworker)
    for bank_hash in BankHash.objects.all():
        bank.set_review(bank_hash, BankHash.Review.PAUSED)  # e.g. reported not NCII: nothing may be shared
    refused = post(client, "case_move", submitted, {"move": "activate"})
    assert refused.status_code == 409 and "no hash that may be shared" in refused.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == Case.Status.HASHES_SUBMITTED
    bank.set_review(BankHash.objects.get(signal_type="md5", value=video(2)["md5"]), BankHash.Review.NONE)
    assert post(client, "case_move", submitted, {"move": "activate"}).status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Case.Status.ACTIVE


def test_open_cases_cannot_be_made_active(login_as, caseworker):
    case = open_case(caseworker)
    refused = post(login_as(caseworker), "case_move", case, {"move": "activate"})
    assert refused.status_code == 409 and case.status == Case.objects.get(pk=case.pk).status == Case.Status.OPEN


@pytest.mark.parametrize(("data", "status", "message"), [
    ({"move": "explode"}, 400, "Unknown status move"),
    ({"move": "reopen", "reason": "caller_returned"}, 409, "cannot be moved that way"),
    ({"move": "close", "confirm": "yes"}, 400, "Choose a reason"),
    ({"move": "close", "reason": "because", "confirm": "yes"}, 400, "Choose a reason"),
    ({"move": "close", "reason": "other", "note": "x" * 4001, "confirm": "yes"}, 413, "too long"),
    ({"move": "withdraw", "reason": "", "confirm": "yes"}, 400, "Choose a reason"),
    ({"move": "close", "reason": "resolved"}, 400, "tick “Yes, close this case”"),
    ({"move": "withdraw", "reason": "caller_asked", "confirm": "no"}, 400, "tick “Yes, withdraw this case"),
    ({"move": "activate", "reason": "<free text>"}, 400, "takes no reason or note"),
    ({"move": "activate", "note": "x"}, 400, "takes no reason or note"),
])
def test_forged_or_incomplete_moves_change_nothing(login_as, caseworker, submitted, data, status, message):
    events = CaseEvent.objects.count()
    response = post(login_as(caseworker), "case_move", submitted, data)
    assert response.status_code == status and message in response.content.decode()
    assert Case.objects.get(pk=submitted.pk).status == Case.Status.HASHES_SUBMITTED
    assert CaseEvent.objects.count() == events and not CaseNote.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="case.", details__has_key="reason").exists()
    assert BankHash.objects.filter(status=BankHash.Status.ACTIVE).count() == 4


def test_close_and_reopen_with_reasons(login_as, caseworker, submitted):
    client = login_as(caseworker)
    post(client, "case_move", submitted, {"move": "close", "reason": "resolved", "note": "All done on the call.",
                                           "confirm": "yes"})
    submitted.refresh_from_db()
    assert submitted.status == Case.Status.CLOSED
    assert BankHash.objects.filter(status=BankHash.Status.ACTIVE).count() == 4  # a closed case still blocks
    post(client, "case_move", submitted, {"move": "reopen", "reason": "caller_returned"})
    submitted.refresh_from_db()
    assert submitted.status == Case.Status.HASHES_SUBMITTED
    moves = list(CaseEvent.objects.filter(case=submitted, kind="status").values_list("details__move", flat=True))
    assert moves == [None, "close", "reopen"]  # the first: the caller's submission
    assert CaseEvent.objects.get(details__move="close").note.text == "All done on the call."
    audit = AuditEvent.objects.get(action="case.close")
    assert audit.details == {"from": "hashes_submitted", "to": "closed", "reason": "resolved"}


def test_staff_withdraw_on_the_callers_word(login_as, caseworker, supervisor, submitted):
    withdraw = {"move": "withdraw", "reason": "caller_asked", "confirm": "yes"}
    post(login_as(supervisor), "case_move", submitted, withdraw)
    again = post(login_as(supervisor), "case_move", submitted, withdraw)
    assert again.status_code == 409
    submitted.refresh_from_db()
    assert submitted.status == Case.Status.WITHDRAWN
    assert not BankHash.objects.filter(status=BankHash.Status.ACTIVE).exists()
    assert Notification.objects.get().recipient == caseworker  # not the supervisor who did it
    assert CaseEvent.objects.get(kind="withdrawn").actor == supervisor


# --- Assignment and access ----------------------------------------------------------------------------------


def test_supervisors_assign_and_the_new_caseworker_is_told(login_as, supervisor, caseworker, colleague, submitted):
    assert post(login_as(supervisor), "case_assign", submitted, {"caseworker": colleague.pk}).status_code == 302
    submitted.refresh_from_db()
    assert submitted.caseworker == colleague
    assert Notification.objects.filter(recipient=colleague, kind="assigned", case=submitted).exists()
    assert CaseEvent.objects.get(kind="assigned").details["to"] == colleague.pk
    listing = login_as(colleague).get(reverse("case_list")).content.decode()
    assert submitted.display_reference in listing  # assigned: in their list now
    # The caseworker who opened it still sees it as their own.
    assert submitted.display_reference in login_as(caseworker).get(reverse("case_list")).content.decode()


def test_caseworkers_cannot_assign(login_as, caseworker, colleague, submitted):
    refused = post(login_as(caseworker), "case_assign", submitted, {"caseworker": colleague.pk})
    assert refused.status_code == 403 and "Only supervisors" in refused.content.decode()
    assert Case.objects.get(pk=submitted.pk).caseworker == caseworker


def test_another_caseworkers_case_needs_a_reason(login_as, caseworker, colleague, submitted):
    client = login_as(colleague)
    assert submitted.display_reference not in client.get(reverse("case_list")).content.decode()
    found = client.get(reverse("case_list"), {"reference": submitted.display_reference.lower()})
    assert found["Location"] == reverse("case_detail", args=[submitted.reference])
    asked = client.get(found["Location"])
    assert asked["Location"] == reverse("case_open_by_reference", args=[submitted.reference])
    assert client.get(reverse("case_live", args=[submitted.reference])).status_code == 403
    before = CaseNote.objects.count()
    refused = post(client, "case_note", submitted, {"text": "sneaky"})
    assert refused.status_code == 403 and "open it by its reference" in refused.content.decode()
    assert post(client, "case_move", submitted, {"move": "activate"}).status_code == 403
    assert CaseNote.objects.count() == before and Case.objects.get(pk=submitted.pk).status == "hashes_submitted"
    assert client.get(reverse("contact_detail", args=[submitted.contacts.get().pk])).status_code == 403
    form = client.get(asked["Location"])
    assert form.status_code == 403 and "Why are you opening this case?" in form.content.decode()
    assert client.post(asked["Location"], {"reason": "bored"}).status_code == 400
    assert not AuditEvent.objects.filter(action="case.viewed").exists()

    client.post(asked["Location"], {"reason": "covering", "note": "Casey is off sick"})
    (opened,) = AuditEvent.objects.filter(action="case.opened_by_reference")
    assert opened.actor == colleague and opened.details == {"reason": "covering"}
    assert AuditNote.objects.get(pk=opened.note_id).text == "Casey is off sick"
    page = client.get(reverse("case_detail", args=[submitted.reference]))
    assert page.status_code == 200 and "You opened this case by its reference" in page.content.decode()
    (view,) = AuditEvent.objects.filter(action="case.viewed")
    assert view.actor == colleague and view.details == {"reason": "covering"}
    assert view.note_id is None  # the note went with the grant
    client.get(reverse("case_live", args=[submitted.reference]))  # polling is not a view
    assert AuditEvent.objects.filter(action="case.viewed").count() == 1
    client.get(reverse("case_detail", args=[submitted.reference]))
    second = AuditEvent.objects.filter(action="case.viewed").latest("id")
    assert second.details == {"reason": "covering"} and second.note_id is None
    assert client.get(reverse("contact_detail", args=[submitted.contacts.get().pk])).status_code == 200
    assert AuditEvent.objects.get(action="contact.viewed").details == {"reason": "covering"}


def test_opening_by_reference_is_audited_even_if_the_page_is_never_shown(login_as, caseworker, colleague,
                                                                           submitted):
    """A client that opens the case with a reason, then only polls live.json and posts changes, leaves the grant's
    audit row: who, which case, why (the note apart, purgeable), before anything else it does."""
    client = login_as(colleague)
    opened = client.post(reverse("case_open_by_reference", args=[submitted.reference]),
                         {"reason": "safeguarding", "note": "Police asked"})
    assert opened.status_code == 302
    assert client.get(reverse("case_live", args=[submitted.reference])).status_code == 200
    assert post(client, "case_note", submitted, {"text": "Seen"}).status_code == 302
    assert not AuditEvent.objects.filter(action="case.viewed").exists()
    (grant,) = AuditEvent.objects.filter(action="case.opened_by_reference")
    assert grant.actor == colleague and (grant.target_type, grant.target_id) == ("Case", str(submitted.pk))
    assert grant.details == {"reason": "safeguarding"}
    assert AuditNote.objects.get(pk=grant.note_id).text == "Police asked"
    assert "Police asked" not in str(dict(client.session))  # the note is never kept in the session


def test_supervisors_see_every_case_without_a_reason(login_as, supervisor, submitted):
    client = login_as(supervisor)
    assert submitted.display_reference in client.get(reverse("case_list")).content.decode()
    assert client.get(reverse("case_detail", args=[submitted.reference])).status_code == 200
    assert AuditEvent.objects.get(action="case.viewed").details == {}


def test_case_list_filters(login_as, supervisor, caseworker, submitted):
    other = open_case(caseworker, abuse_type="sextortion")
    actions.assign_case(other, None, by=supervisor)
    client = login_as(supervisor)

    def listed(**filters):
        page = client.get(reverse("case_list"), filters).content.decode()
        return {case.display_reference for case in (submitted, other) if case.display_reference in page}

    assert listed() == {submitted.display_reference, other.display_reference}
    assert listed(status="hashes_submitted") == {submitted.display_reference}
    assert listed(abuse_type="sextortion") == {other.display_reference}
    assert listed(assigned="none") == {other.display_reference}
    assert listed(assigned=str(caseworker.pk)) == {submitted.display_reference}
    assert listed(opened_from="2000-01-01", opened_to="2000-01-02") == set()
    bad = client.get(reverse("case_list"), {"opened_from": "2026-02-01", "opened_to": "2026-01-01"})
    assert bad.status_code == 400 and "on or before" in bad.content.decode()


# --- Checklist, referrals, notes ----------------------------------------------------------------------------


def test_checklist_answers_and_template_changes_apply_to_new_cases_only(login_as, caseworker, administrator):
    old_case = open_case(caseworker)
    lines = list(old_case.evidence.all())
    assert len(lines) == EvidenceItem.objects.filter(active=True).count() == 10
    client = login_as(caseworker)
    first = lines[0]
    post(client, "case_checklist", old_case, {f"state-{first.pk}": "done", f"note-{first.pk}": "3 screenshots",
                                              f"state-{lines[1].pk}": "not_applicable"})
    first.refresh_from_db()
    assert (first.state, first.note, first.changed_by) == ("done", "3 screenshots", caseworker)

    admin = login_as(administrator)
    template = EvidenceItem.objects.get(pk=first.template_id)
    admin.post(reverse("evidence_template_item", args=[template.pk]),
               {"label": "Screenshots (renamed)", "position": template.position})  # and no longer in use
    admin.post(reverse("evidence_template"), {"label": "Messages from the abuser saved", "position": 200})
    first.refresh_from_db()
    assert (first.label, first.state, first.note) == (lines[0].label, "done", "3 screenshots")
    assert old_case.evidence.count() == 10
    new_case = open_case(caseworker)
    labels = list(new_case.evidence.values_list("label", flat=True))
    assert "Screenshots (renamed)" not in labels and lines[0].label not in labels
    assert labels[-1] == "Messages from the abuser saved" and len(labels) == 10


@pytest.mark.parametrize(("data", "status", "message"), [
    ({"state-999999": "done"}, 404, "not on this case"),
    ({"state-abc": "done"}, 404, "not on this case"),
    ({"state-²": "done"}, 404, "not on this case"),
    ({}, 400, "no checklist items"),
])
def test_unknown_checklist_items_change_nothing(login_as, caseworker, data, status, message):
    case = open_case(caseworker)
    line = case.evidence.first()
    response = post(login_as(caseworker), "case_checklist", case, {f"state-{line.pk}": "done", **data}
                    if data else {})
    assert response.status_code == status and message in response.content.decode()
    assert not CaseEvidence.objects.filter(state="done").exists()


def test_a_bad_line_saves_no_line(login_as, caseworker):
    case = open_case(caseworker)
    first, second = case.evidence.all()[:2]
    response = post(login_as(caseworker), "case_checklist", case, {
        f"state-{first.pk}": "done", f"state-{second.pk}": "done", f"note-{second.pk}": "y" * 201})
    assert response.status_code == 413
    assert not CaseEvidence.objects.filter(state="done").exists() and not CaseEvent.objects.filter(
        kind="checklist").exists()


def test_assigning_to_an_odd_number_is_a_clear_400(login_as, supervisor, caseworker):
    case = open_case(caseworker)
    response = post(login_as(supervisor), "case_assign", case, {"caseworker": "²"})
    assert response.status_code == 400 and "Choose a caseworker" in response.content.decode()


def test_checklist_of_another_case_is_refused(login_as, caseworker):
    mine, other = open_case(caseworker), open_case(caseworker)
    response = post(login_as(caseworker), "case_checklist", mine, {f"state-{other.evidence.first().pk}": "done"})
    assert response.status_code == 404
    assert not CaseEvidence.objects.filter(state="done").exists()


def test_oversized_notes_and_checklist_notes_are_refused(login_as, caseworker):
    case = open_case(caseworker)
    client = login_as(caseworker)
    big = post(client, "case_note", case, {"text": "x" * 4001})
    assert big.status_code == 413 and "at most 4000" in big.content.decode()
    line = case.evidence.first()
    long_note = post(client, "case_checklist", case, {f"state-{line.pk}": "done", f"note-{line.pk}": "y" * 201})
    assert long_note.status_code == 413
    assert not CaseNote.objects.exists() and not CaseEvidence.objects.filter(state="done").exists()
    assert post(client, "case_note", case, {"text": "   "}).status_code == 400


def test_referrals_are_added_and_updated(login_as, caseworker):
    case = open_case(caseworker)
    client = login_as(caseworker)
    post(client, "case_referral", case, {"to": "police", "status": "suggested"})
    post(client, "case_referral", case, {"to": "police", "status": "made", "outcome": "Crime ref 123/26"})
    referral = Referral.objects.get(case=case, to="police")
    assert (referral.status, referral.outcome, referral.contact) == ("made", "Crime ref 123/26",
                                                                     case.contacts.get())
    assert post(client, "case_referral", case, {"to": "nasa", "status": "made"}).status_code == 400
    unchosen = post(client, "case_referral", case, {"to": "", "status": "made"})  # the list has no default
    assert unchosen.status_code == 400 and "Choose a service" in unchosen.content.decode()
    statuses = list(CaseEvent.objects.filter(kind="referral").values_list("details__status", flat=True))
    assert statuses == ["suggested", "made"]
    assert "123/26" not in str(list(CaseEvent.objects.values_list("details", flat=True)))  # free text stays out


def test_timeline_holds_every_step_in_order(login_as, caseworker, supervisor, colleague):
    case = open_case(caseworker)
    code = issue_code(case, caseworker)
    from django.test import Client

    Client().get(reverse("caller:hash", args=[code]))
    submit(code, [image(1)])
    client = login_as(caseworker)
    post(client, "case_note", case, {"text": "Caller is safe."})
    line = case.evidence.first()
    post(client, "case_checklist", case, {f"state-{line.pk}": "done"})
    post(client, "case_referral", case, {"to": "legal", "status": "made"})
    post(client, "case_move", case, {"move": "activate"})
    post(login_as(supervisor), "case_assign", case, {"caseworker": colleague.pk})
    actions.withdraw_case(case)
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == ["contact", "opened", "link_sent", "link_opened", "items_added", "status", "note", "checklist",
                     "referral", "status", "assigned", "withdrawn"]
    page = login_as(supervisor).get(reverse("case_detail", args=[case.reference])).content.decode()
    timeline = page[page.index('id="timeline"'):]
    positions = [timeline.index(f'data-kind="{kind}"') for kind in dict.fromkeys(kinds)]
    assert positions == sorted(positions)
    assert "Caller is safe." in timeline


# --- Query counts -------------------------------------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_case_page_queries_do_not_grow_with_items_events_or_notes(login_as, caseworker):
    case = open_case(caseworker)
    client = login_as(caseworker)
    url = reverse("case_detail", args=[case.reference])
    count_queries(client, url)  # the first request of a session also writes the session
    few = count_queries(client, url)
    submit(issue_code(case, caseworker), [image(n) for n in range(1, 9)] + [video(n) for n in range(1, 5)])
    for n in range(5):
        actions.add_note(case, f"note {n}", by=caseworker)
        actions.refer(case, ["police", "legal", "platform", "counselling", "other"][n], by=caseworker)
    for line in case.evidence.all()[:4]:
        actions.answer_evidence(case, line.pk, state="done", by=caseworker)
    assert count_queries(client, url) == few


def test_case_list_queries_do_not_grow_with_cases(login_as, supervisor, caseworker):
    client = login_as(supervisor)
    url = reverse("case_list")
    open_case(caseworker)
    count_queries(client, url)
    few = count_queries(client, url)
    for n in range(12):
        case = open_case(caseworker)
        if n % 3 == 0:
            submit(issue_code(case, caseworker), [image(100 + n), video(100 + n)])
    assert count_queries(client, url) == few
