"""The flood quarantine (design rule 9; docs/caller.md): a budget for self-service submissions across everyone.

Quotas stop one client; a flood from many (a botnet, a coordinated group) passes them. When more self-service
submissions arrive in the sliding window than SELF_SERVICE_FLOOD_LIMIT, or than SELF_SERVICE_FLOOD_FACTOR times
the usual number (once above SELF_SERVICE_FLOOD_FLOOR), the hashes they bring are held for review: the bank's
review field says so, and the one shareable rule keeps them from every partner until a supervisor releases
them (partners.outcomes.review_quarantined). A link a caseworker issued is never held by it.
"""

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from cases.models import HashingLink
from hashing.models import BankHash
from staff import roles
from staff.models import User

# pg_advisory_xact_lock key: self-service submissions take their turn to count, so a burst in parallel cannot
# slip under the budget together.
BUDGET_LOCK = 0x5E1F5E5


def is_self_service(link):
    """The caller started alone: the public start page issued the link, not a caseworker."""
    return link.created_by_id is None


def self_service_submissions(since, until):
    """Self-service submissions (each self-service link is submitted once; retries add nothing) in [since,
    until)."""
    return HashingLink.objects.filter(created_by=None, used_at__gte=since, used_at__lt=until).count()


def threshold(now):
    """How many self-service submissions a window may hold before the next is held."""
    window = timedelta(minutes=settings.SELF_SERVICE_FLOOD_WINDOW_MINUTES)
    baseline = timedelta(days=settings.SELF_SERVICE_FLOOD_BASELINE_DAYS)
    usual = self_service_submissions(now - baseline, now - window) / max(1, (baseline - window) / window)
    return min(settings.SELF_SERVICE_FLOOD_LIMIT,
               max(settings.SELF_SERVICE_FLOOD_FLOOR, settings.SELF_SERVICE_FLOOD_FACTOR * usual))


def holds(link, now=None):
    """Whether this submission's hashes are held for review. Call inside the submission's transaction, before
    the bank rows are locked: it takes the budget lock, which the transaction keeps until it commits."""
    if not is_self_service(link):
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BUDGET_LOCK])
    if settings.SELF_SERVICE_HOLD_ALL:
        return True
    now = now or timezone.now()
    recent = self_service_submissions(now - timedelta(minutes=settings.SELF_SERVICE_FLOOD_WINDOW_MINUTES), now)
    return recent + 1 > threshold(now)  # + 1: this submission, not yet marked used


def alert_if_first():
    """A held submission starting a new batch (none was waiting) tells the supervisors by mail once it commits;
    the dashboard shows the batch for as long as it waits."""
    if not BankHash.objects.quarantined().exists():
        transaction.on_commit(mail_supervisors, robust=True)


def mail_supervisors():
    recipients = list(User.objects.filter(groups__name=roles.SUPERVISOR, is_active=True)
                      .values_list("email", flat=True).distinct())
    if not recipients:
        return
    why = ("every self-service hash is held for review (SELF_SERVICE_HOLD_ALL)" if settings.SELF_SERVICE_HOLD_ALL
           else f"more self-service submissions than usual arrived in the last "
                f"{settings.SELF_SERVICE_FLOOD_WINDOW_MINUTES} minutes")
    send_mail(
        "Self-service hashes are held for review",
        f"New self-service hashes are being held, not shared with partners: {why}. This can be an attempt to "
        f"push images that are not NCII into partners' blocklists.\n\nRelease or reject the held batch in the "
        f"review queue: {reverse('review_queue')}. Hashes from links a caseworker issued are not held.",
        settings.DEFAULT_FROM_EMAIL, recipients)
