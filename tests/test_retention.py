"""Retention per data class (docs/privacy.md): purged data is gone, anonymous counts survive, audit rows stay
until their own retention; the daily job runs in a real Celery worker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.actions import record
from audit.models import AuditClientIP, AuditEvent, AuditNote
from cases import actions, retention
from cases.models import Case, CaseEvent, CaseEvidence, CaseNote, Contact, Item, Referral
from cases.tasks import apply_retention
from hashing.models import BankHash
from tests.calls import ensure_checklist, image, issue_code, open_case, submit, video
from tests.conftest import make_staff, wait_for


def scenario(caseworker, settings):
    """An old ended case, a current case, an old audited act with a note and an address, a recent one."""
    now = timezone.now()
    ensure_checklist()
    old = open_case(caseworker, self_harm_risk=True)
    assert submit(issue_code(old, caseworker), [image(1), video(2)]).status_code == 200
    actions.add_note(old, "Caller's sister knows.", by=caseworker)
    line = old.evidence.first()
    actions.answer_evidence(old, line.pk, state="done", note="6 screenshots", by=caseworker)
    actions.refer(old, "police", status="made", outcome="Crime ref 9/24", by=caseworker)
    actions.withdraw_case(old)
    long_ago = now - timedelta(days=max(settings.RETENTION_ITEMS_DAYS, settings.RETENTION_NOTES_DAYS,
                                        settings.RETENTION_CONTACT_ANSWERS_DAYS) + 10)
    Case.objects.filter(pk=old.pk).update(ended_at=long_ago, created=long_ago)
    Contact.objects.filter(case=old).update(created=long_ago)
    BankHash.objects.update(changed=now - timedelta(days=settings.RETENTION_WITHDRAWN_HASHES_DAYS + 1))

    current = open_case(caseworker)
    assert submit(issue_code(current, caseworker), [image(3)]).status_code == 200
    actions.add_note(current, "Recent note.", by=caseworker)

    audited_old = record("case.viewed", actor=caseworker, target=old, note="covering for Sam")
    AuditNote.objects.filter(pk=audited_old.note_id).update(
        created=now - timedelta(days=settings.RETENTION_NOTES_DAYS + 1))
    AuditClientIP.objects.create(ip="203.0.113.8", created=now - timedelta(days=settings.AUDIT_IP_RETENTION_DAYS + 1))
    recent_ip = AuditClientIP.objects.create(ip="203.0.113.9")
    ancient = AuditEvent.objects.create(action="old.event", at=now - timedelta(days=settings.AUDIT_RETENTION_DAYS + 1))
    return old, current, audited_old, recent_ip, ancient


def check_purged(old, current, audited_old, recent_ip, ancient, audit_rows):
    assert not CaseNote.objects.filter(case=old).exists()
    assert not CaseEvidence.objects.filter(case=old).exclude(note="").exists()
    assert Referral.objects.get(case=old, to="police").outcome == ""
    assert not Item.objects.filter(case=old).exists()
    assert not BankHash.objects.filter(value__in=[image(1)["pdq"], video(2)["md5"]]).exists()
    contact = Contact.objects.get(case=old)
    assert contact.answers_cleared and contact.in_content is None and not contact.self_harm_risk
    # The anonymous counts survive.
    old.refresh_from_db()
    assert (old.status, old.abuse_type) == ("withdrawn", "shared")
    assert contact.channel == "phone" and set(contact.referrals.values_list("to", flat=True)) >= {"police",
                                                                                                   "crisis_line"}
    assert CaseEvent.objects.get(case=old, kind="items_added").details["kinds"] == {"image": 1, "video": 1,
                                                                                   "file": 0}
    assert CaseEvent.objects.filter(case=old, kind="note").exists()  # the step stays; its text is gone
    # The current case is untouched.
    assert CaseNote.objects.filter(case=current).count() == 1 and current.items.count() == 1
    assert BankHash.objects.filter(value=image(3)["pdq"], status="active").exists()
    # Audit rows all stay (only the owner's purge removes them, past their own retention); notes and addresses
    # past theirs are gone.
    assert AuditEvent.objects.count() == audit_rows and AuditEvent.objects.filter(pk=ancient.pk).exists()
    assert not AuditNote.objects.filter(pk=audited_old.note_id).exists()
    assert list(AuditClientIP.objects.values_list("pk", flat=True)) == [recent_ip.pk]


def test_retention_purges_each_data_class_and_keeps_the_counts(caseworker, settings):
    rows = scenario(caseworker, settings)
    audit_rows = AuditEvent.objects.count()
    purged = retention.apply()
    assert purged["case_notes"] == 1 and purged["items"] == 2 and purged["bank_hashes"] == 4
    check_purged(*rows, audit_rows)
    assert retention.apply() == dict.fromkeys(purged, 0)  # nothing twice


@pytest.mark.worker
def test_the_daily_job_runs_in_a_real_worker(transactional_db, celery_worker, settings):
    caseworker = make_staff("casey@helpline.test", "caseworker")
    rows = scenario(caseworker, settings)
    audit_rows = AuditEvent.objects.count()
    apply_retention.delay()
    assert wait_for(lambda: not AuditClientIP.objects.filter(ip="203.0.113.8").exists(), timeout=30)
    check_purged(*rows, audit_rows)


def test_beat_runs_retention_everywhere():
    from tests.test_audit_log import beat_schedule

    assert "apply-retention" in beat_schedule(DEBUG="0")
