"""Is it still up? An optional check (TAKEDOWN_CHECK_ADDRESSES, off by default) of open addresses: one HEAD
request each (GET where a site refuses HEAD), for the HTTP status only. No body is read or kept, no redirect is
followed, and the addresses connected to are those the webhooks' guard allows (partners.push.allowed_address:
public addresses only, loopback only where WEBHOOK_ALLOW_LOOPBACK says so, never in production). A 404 or 410
suggests "removed" for the caseworker to confirm (takedowns.actions.checked); nothing is recorded for them.
"""

import logging
from datetime import timedelta

import urllib3
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from partners.push import UnsafeURL, pinned_pool, resolve
from takedowns import actions
from takedowns.models import Address

logger = logging.getLogger(__name__)

BATCH = 200  # addresses a run asks; the next run takes the next ones
OPEN = (Address.Outcome.ASKED, Address.Outcome.NO_ANSWER, Address.Outcome.REFUSED, Address.Outcome.REINSTATED)
USER_AGENT = "Mozilla/5.0 (compatible; helpline-takedown-check)"


def status_of(url):
    """The address's HTTP status, or None when it cannot be asked (refused by the guard, unreachable)."""
    try:
        parts, host, port, found = resolve(url, https_only=False)
    except UnsafeURL:
        return None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    timeout = urllib3.Timeout(connect=settings.TAKEDOWN_CHECK_TIMEOUT, read=settings.TAKEDOWN_CHECK_TIMEOUT)
    headers = {"Host": parts.netloc, "User-Agent": USER_AGENT}
    for address in found:
        pool = pinned_pool(parts, host, port, address, timeout)
        try:
            with pool:
                status = ask(pool, "HEAD", target, headers)
                if status in (405, 501):  # HEAD not supported: GET, and close before the body
                    status = ask(pool, "GET", target, headers)
                return status
        except urllib3.exceptions.NewConnectionError:
            continue  # the next address
        except urllib3.exceptions.HTTPError:
            return None
    return None


def ask(pool, method, target, headers):
    response = pool.urlopen(method, target, headers=headers, redirect=False, preload_content=False)
    try:
        return response.status
    finally:
        response.close()  # the connection goes, unread


def due_for_check(now=None):
    now = now or timezone.now()
    since = now - timedelta(hours=settings.TAKEDOWN_CHECK_HOURS)
    return (Address.objects.live().filter(outcome__in=OPEN).filter(Q(checked_at=None) | Q(checked_at__lt=since))
            .order_by("checked_at", "id"))


def check_due(limit=BATCH):
    """Ask up to `limit` open addresses not checked within TAKEDOWN_CHECK_HOURS; returns how many."""
    addresses = list(due_for_check()[:limit])
    for address in addresses:
        actions.checked(address, status_of(address.url))
    logger.info("takedown check: %d addresses asked", len(addresses))  # a count, never an address
    return len(addresses)
