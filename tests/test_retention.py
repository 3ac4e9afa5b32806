"""Retention per data class (docs/privacy.md): purged data is gone, anonymous counts survive, a closed case
keeps blocking, audit rows stay until their own retention; the daily jobs run in a real Celery worker."""

from datetime import timedelta

import pytest
from allauth.usersessions.models import UserSession
from django.utils import timezone

from audit.actions import record
from audit.models import AuditClientIP, AuditEvent, AuditNote
from audit.purge import purge_expired_events
from audit.tasks import purge_expired_events as purge_task
from cases import actions
from cases.models import Case, CaseEvent, CaseEvidence, CaseNote, Contact, Item, Referral
from hashing.models import BankHash
from ncii_portal import retention
from ncii_portal.tasks import apply_retention
from tests.calls import ensure_checklist, image, issue_code, open_case, submit, video
from tests.conftest import make_staff, wait_for


def backdate(case, days, **fields):
    when = timezone.now() - timedelta(days=days)
    Case.objects.filter(pk=case.pk).update(created=when, **{field: when for field in fields})
    Contact.objects.filter(case=case).update(created=when)


def scenario(caseworker, settings):
    """A case withdrawn a while ago, a case closed long ago (sharing a hash with it), a current case, and audit
    rows, notes and addresses of every age."""
    now = timezone.now()
    old_enough = max(settings.RETENTION_NOTES_DAYS, settings.RETENTION_CONTACT_ANSWERS_DAYS) + 10
    ensure_checklist()
    withdrawn = open_case(caseworker, self_harm_risk=True)
    assert submit(issue_code(withdrawn, caseworker), [image(1), video(2), image(9)]).status_code == 200
    actions.add_note(withdrawn, "Caller's sister knows.", by=caseworker)
    line = withdrawn.evidence.first()
    actions.answer_evidence(withdrawn, line.pk, state="done", note="6 screenshots", by=caseworker)
    actions.refer(withdrawn, "police", status="made", outcome="Crime ref 9/24", by=caseworker)

    closed = open_case(caseworker)
    assert submit(issue_code(closed, caseworker), [image(9), image(4)]).status_code == 200  # image 9 in both
    actions.add_note(closed, "Done and dusted.", by=caseworker)
    actions.move_case(closed, "close", by=caseworker, reason="resolved")
    actions.withdraw_case(withdrawn)
    backdate(withdrawn, old_enough, ended_at=True, withdrawn_at=True)
    backdate(closed, old_enough, ended_at=True)
    withdrawn_long_enough = now - timedelta(days=settings.RETENTION_WITHDRAWN_DAYS + 1)
    BankHash.objects.filter(status="withdrawn").update(changed=withdrawn_long_enough)

    current = open_case(caseworker)
    assert submit(issue_code(current, caseworker), [image(3)]).status_code == 200
    actions.add_note(current, "Recent note.", by=caseworker)

    audited_old = record("case.viewed", actor=caseworker, target=withdrawn, note="covering for Sam")
    AuditNote.objects.filter(pk=audited_old.note_id).update(
        created=now - timedelta(days=settings.RETENTION_NOTES_DAYS + 1))
    AuditClientIP.objects.create(ip="203.0.113.8", created=now - timedelta(days=settings.AUDIT_IP_RETENTION_DAYS + 1))
    recent_ip = AuditClientIP.objects.create(ip="203.0.113.9")
    expired_ip = AuditClientIP.objects.create(ip="203.0.113.10")
    expired_note = AuditNote.objects.create(text="six years ago")
    ancient = AuditEvent.objects.create(action="old.event", at=now - timedelta(days=settings.AUDIT_RETENTION_DAYS + 1),
                                        client_ip=expired_ip, note=expired_note)
    return withdrawn, closed, current, audited_old, recent_ip, ancient


def check_purged(withdrawn, closed, current, audited_old, recent_ip, ancient, audit_rows):
    for case in (withdrawn, closed):  # free text of ended cases
        assert not CaseNote.objects.filter(case=case).exists()
    assert not CaseEvidence.objects.filter(case=withdrawn).exclude(note="").exists()
    assert Referral.objects.get(case=withdrawn, to="police").outcome == ""
    # The withdrawn case's items and the hashes nobody holds are gone; the closed case still blocks, the hash it
    # shares with the withdrawn case included.
    assert not Item.objects.filter(case=withdrawn).exists()
    assert not BankHash.objects.filter(value__in=[image(1)["pdq"], video(2)["md5"]]).exists()
    assert closed.items.count() == 2
    assert BankHash.objects.filter(value__in=[image(9)["pdq"], image(4)["pdq"]], status="active").count() == 2
    contact = Contact.objects.get(case=withdrawn)
    assert contact.answers_cleared and contact.in_content is None and not contact.self_harm_risk
    # The anonymous counts survive.
    withdrawn.refresh_from_db()
    assert (withdrawn.status, withdrawn.abuse_type) == ("withdrawn", "shared")
    assert contact.channel == "phone" and set(contact.referrals.values_list("to", flat=True)) >= {"police",
                                                                                                   "crisis_line"}
    assert CaseEvent.objects.get(case=withdrawn, kind="items_added").details["kinds"] == {"image": 2, "video": 1,
                                                                                         "file": 0}
    assert CaseEvent.objects.filter(case=withdrawn, kind="note").exists()  # the step stays; its text is gone
    # The current case is untouched.
    assert CaseNote.objects.filter(case=current).count() == 1 and current.items.count() == 1
    # Audit rows all stay (only the owner's purge removes them, past their own retention); notes and addresses
    # past theirs are gone.
    assert AuditEvent.objects.count() == audit_rows and AuditEvent.objects.filter(pk=ancient.pk).exists()
    assert not AuditNote.objects.filter(pk=audited_old.note_id).exists()
    assert not AuditClientIP.objects.filter(ip="203.0.113.8").exists()
    assert AuditClientIP.objects.filter(pk=recent_ip.pk).exists()


def test_retention_purges_each_data_class_and_keeps_the_counts(caseworker, settings):
    rows = scenario(caseworker, settings)
    audit_rows = AuditEvent.objects.count()
    purged = retention.apply()
    assert purged["case_notes"] == 2 and purged["items"] == 3 and purged["bank_hashes"] == 4
    check_purged(*rows, audit_rows)
    assert retention.apply() == dict.fromkeys(purged, 0)  # nothing twice


def test_retention_does_not_wait_two_years_for_a_withdrawn_case(caseworker, settings):
    case = open_case(caseworker)
    submit(issue_code(case, caseworker), [image(1)])
    actions.withdraw_case(case)
    backdate(case, settings.RETENTION_WITHDRAWN_DAYS + 1, withdrawn_at=True, ended_at=True)
    BankHash.objects.update(changed=timezone.now() - timedelta(days=settings.RETENTION_WITHDRAWN_DAYS + 1))
    retention.apply()
    assert not Item.objects.exists() and not BankHash.objects.exists()


def test_staff_session_records_are_purged(caseworker, settings):
    from tests.helpers import sign_in_fully

    sign_in_fully(caseworker)
    UserSession.objects.update(last_seen_at=timezone.now() - timedelta(days=settings.AUDIT_IP_RETENTION_DAYS + 1))
    assert retention.apply()["staff_sessions"] == 1 and not UserSession.objects.exists()


def test_owner_purge_removes_expired_audit_rows_with_their_notes_and_addresses(caseworker, settings):
    withdrawn, closed, current, audited_old, recent_ip, ancient = scenario(caseworker, settings)
    audit_rows = AuditEvent.objects.count()
    assert purge_expired_events() == 1
    assert AuditEvent.objects.count() == audit_rows - 1 and not AuditEvent.objects.filter(pk=ancient.pk).exists()
    assert not AuditNote.objects.filter(text="six years ago").exists()
    assert not AuditClientIP.objects.filter(ip="203.0.113.10").exists()
    assert AuditClientIP.objects.filter(pk=recent_ip.pk).exists()


@pytest.mark.worker
def test_the_daily_jobs_run_in_a_real_worker(transactional_db, celery_worker, settings):
    caseworker = make_staff("casey@helpline.test", "caseworker")
    rows = scenario(caseworker, settings)
    audit_rows = AuditEvent.objects.count()
    apply_retention.delay()
    assert wait_for(lambda: not AuditClientIP.objects.filter(ip="203.0.113.8").exists(), timeout=30)
    check_purged(*rows, audit_rows)
    purge_task.delay()  # beat runs it in development; the owner's cron in production
    assert wait_for(lambda: not AuditEvent.objects.filter(pk=rows[-1].pk).exists(), timeout=30)
    assert AuditEvent.objects.count() == audit_rows - 1
    assert not AuditClientIP.objects.filter(ip="203.0.113.10").exists()


def test_beat_runs_retention_everywhere():
    from tests.helpers import beat_schedule

    assert "apply-retention" in beat_schedule(DEBUG="0")


def test_a_withdrawn_hash_stays_until_every_live_partner_has_heard(caseworker, settings):
    from partners import handovers
    from partners.models import FeedPosition, Outcome
    from tests.helpers import live_partner

    case = open_case(caseworker)
    submit(issue_code(case, caseworker), [video(1)])
    row = BankHash.objects.get(value=video(1)["md5"])
    before_withdrawal = row.changes.order_by("txid", "id").last()
    native, stop, _idle = live_partner("native"), live_partner("stop"), live_partner("idle")  # idle: never fetched
    handovers.note_fetch(native, FeedPosition.Route.NATIVE, txid=before_withdrawal.txid,
                        change_id=before_withdrawal.id)
    handovers.note_fetch(stop, FeedPosition.Route.STOPNCII, checkpoint=timezone.now())
    actions.withdraw_case(case)
    backdate(case, settings.RETENTION_WITHDRAWN_DAYS + 1, withdrawn_at=True, ended_at=True)
    long_ago = timezone.now() - timedelta(days=settings.RETENTION_WITHDRAWN_DAYS + 1)
    BankHash.objects.update(changed=long_ago)

    assert retention.apply()["bank_hashes"] == 0  # neither fetching partner has been told of the withdrawal
    withdrawal = row.changes.order_by("txid", "id").last()
    handovers.note_fetch(native, FeedPosition.Route.NATIVE, txid=withdrawal.txid, change_id=withdrawal.id)
    assert retention.apply()["bank_hashes"] == 0  # the StopNCII partner has not
    Outcome.objects.create(partner=stop, bank_hash=row, signal_type="md5", value="Withdrawn", acted_at=long_ago)
    assert retention.apply()["bank_hashes"] == 1  # it acknowledged instead; the idle partner never had it


def test_pushed_batches_go_a_month_after_delivery_but_never_before(caseworker, settings):
    from partners.models import Delivery, DeliveryAttempt
    from tests.helpers import live_partner

    partner = live_partner()
    old = timezone.now() - timedelta(days=settings.RETENTION_DELIVERY_DAYS + 1)
    delivered = Delivery.objects.create(partner=partner, message_id="msg_a", body="{}", state="delivered",
                                        delivered_at=old, created=old)
    DeliveryAttempt.objects.create(delivery=delivered, status_code=200)
    recent = Delivery.objects.create(partner=partner, message_id="msg_b", body="{}", state="delivered",
                                     delivered_at=timezone.now(), created=old)
    waiting = Delivery.objects.create(partner=partner, message_id="msg_c", body="{}", state="parked", created=old)
    Delivery.objects.create(partner=partner, message_id="msg_d", body="{}", state="test", created=old)
    assert retention.apply()["push_deliveries"] == 2
    assert set(Delivery.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert not DeliveryAttempt.objects.exists()
