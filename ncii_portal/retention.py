"""Retention, per data class (docs/privacy.md): what is removed, when, and what survives as anonymous counts.

A policy over every app (cases, the bank, partners' deliveries, audit notes, sessions), so it lives in the project
package, which may see them all; no app imports it. Run daily by beat (ncii_portal.tasks.apply_retention) under
the runtime role: nothing here deletes audit rows, which only the owner's `purge_audit` may do. What survives
every purge, for statistics: case rows (status, abuse type, dates), contact rows (channel, outcome, dates) and
their referrals (service, status), and the timeline's events, which hold counts and codes, never free text.
"""

from datetime import timedelta
from importlib import import_module

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import AuditClientIP, AuditNote
from cases.models import Case, CaseEvidence, CaseNote, Contact, Item, Referral
from hashing.models import BankHash
from partners import addresses, push
from partners.feed import heard_by_every_partner
from partners.models import Delivery, Partner, SharedAddress
from takedowns.models import Address


def days_ago(days, now):
    return now - timedelta(days=days)


def deleted(queryset):
    """Rows of the queryset's own model that were deleted (not counting links deleted with them)."""
    return queryset.delete()[1].get(queryset.model._meta.label, 0)


@transaction.atomic
def apply(now=None):
    """Purge what is past its retention; returns {data class: rows purged or cleared}."""
    now = now or timezone.now()
    notes_before = days_ago(settings.RETENTION_NOTES_DAYS, now)
    ended_long_ago = Case.objects.filter(ended_at__lt=notes_before)
    done = {
        # Free text: notes, checklist notes and referral outcomes of cases that ended, and staff's notes given
        # with audited acts (the audit rows stay and point at nothing).
        "case_notes": deleted(CaseNote.objects.filter(case__in=ended_long_ago)),
        "checklist_notes": CaseEvidence.objects.filter(case__in=ended_long_ago).exclude(note="").update(note=""),
        "referral_outcomes": Referral.objects.filter(
            Q(case__in=ended_long_ago) | Q(case=None, contact__created__lt=notes_before)).exclude(outcome="")
        .update(outcome=""),
        "audit_notes": deleted(AuditNote.objects.filter(created__lt=notes_before)),
        # Items (which link a case to its hashes, and carry each file's MD5) of withdrawn cases. A closed case
        # keeps its items: it still holds its hashes active, and its caller may still withdraw it.
        "items": deleted(Item.objects.filter(
            case__status=Case.Status.WITHDRAWN,
            case__withdrawn_at__lt=days_ago(settings.RETENTION_WITHDRAWN_DAYS, now))),
        # Web addresses of a case's images (design rule 11), and the free text beside them (sites' reasons,
        # statements in requests), once the case has ended; a withdrawn case's with its items, once every
        # partner sent some of them has read their withdrawal (partners.addresses.told): purged before, an
        # address would stay "asked for" at a partner that had not read since. Each address's site, outcome and
        # times stay, for the statistics.
        "web_addresses": Address.objects.filter(
            Q(case__ended_at__lt=days_ago(settings.RETENTION_WEB_ADDRESSES_DAYS, now))
            | Q(case__status=Case.Status.WITHDRAWN,
                case__withdrawn_at__lt=days_ago(settings.RETENTION_WITHDRAWN_DAYS, now))).exclude(
            case__status=Case.Status.WITHDRAWN,
            case__in=addresses.untold(SharedAddress.objects.filter(purged_at=None)).values("case_id")).purge(now),
        # A contact's answers and risk flags; its channel, outcome, referrals and date stay.
        "contact_answers": Contact.objects.filter(
            created__lt=days_ago(settings.RETENTION_CONTACT_ANSWERS_DAYS, now), answers_cleared=False,
        ).update(in_content=None, adult_in_content=None, intimate=None, has_files=None, immediate_danger=False,
                 self_harm_risk=False, abuser_contact=False, child_involved=False, answers_cleared=True),
        # Bank hashes no case holds any more, withdrawn long enough ago, once every live partner has heard.
        "bank_hashes": deleted(heard_by_every_partner(BankHash.objects.filter(
            status=BankHash.Status.WITHDRAWN, items=None,
            changed__lt=days_ago(settings.RETENTION_WITHDRAWN_DAYS, now)))),
        # Pushed batches once delivered (their bodies hold hash values) and test events, with their log rows.
        # Statistics keep what they need in partners.Handover, which holds no hash.
        "push_deliveries": deleted(Delivery.objects.filter(
            Q(state=Delivery.State.DELIVERED, delivered_at__lt=days_ago(settings.RETENTION_DELIVERY_DAYS, now))
            | Q(state=Delivery.State.TEST, created__lt=days_ago(settings.RETENTION_DELIVERY_DAYS, now)))),
        # Push batches never delivered to a partner that is not live (suspended long, or offboarded): their
        # bodies hold hash values. Should it come back, it is sent the bank as it is then.
        "undelivered_batches": sum(push.drop_undelivered(partner) for partner in Partner.objects.exclude(
            state=Partner.State.LIVE).filter(deliveries__in=Delivery.objects.undelivered().filter(
                created__lt=days_ago(settings.RETENTION_DELIVERY_DAYS, now))).distinct()),
        # Client addresses of audited requests (the rows stay; rate-limit counters expire in the cache by
        # themselves within a day).
        "audit_ips": deleted(AuditClientIP.objects.filter(
            created__lt=days_ago(settings.AUDIT_IP_RETENTION_DAYS, now))),
        # Staff sessions' records (allauth keeps each session's IP address and browser).
        "staff_sessions": deleted(UserSession.objects.filter(
            last_seen_at__lt=days_ago(settings.AUDIT_IP_RETENTION_DAYS, now))),
    }
    return done


def clear_expired_sessions():
    """Sessions past their expiry date, removed as Django's `clearsessions` does, for whichever SESSION_ENGINE is
    configured. An expired session still holds what it held: a caller's "unlocked case" pointer, a caseworker's
    grants to cases opened by reference. Run daily by beat (ncii_portal.tasks.clear_expired_sessions)."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
