"""Push: the bank's changes to partners' webhooks, signed per Standard Webhooks, in order, retried until they are
delivered, parked (never dropped) when retries run out.

The route: a bank change is written with its BankChange row (the outbox) in one transaction; after commit a push
round is asked for (`soon`), and beat asks every PUSH_REDRIVE_SECONDS anyway, so a lost broker message or a dead
worker delays a delivery but never loses it. A round (`run`) takes a partner's lease, cuts its new changes into
Deliveries (fixed bodies, one webhook-id each) and sends them oldest first until one fails or the time is up.
"""

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import random
import secrets
import socket
import time
from datetime import timedelta
from urllib.parse import urlsplit

import urllib3
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hashing.models import BankChange, BankHash
from partners import feed
from partners.models import Delivery, DeliveryAttempt, FeedPosition, Handover, Outcome, Partner, Webhook

logger = logging.getLogger(__name__)

CUT_PER_ROUND = 20  # deliveries cut per round at most: a backfill of a large bank is cut over several rounds
ROUND_SECONDS = 10  # a round yields its worker after this long, so no partner holds one for long


# --- Secrets and signatures ---------------------------------------------------------------------------------

def new_secret():
    """A Standard Webhooks signing secret: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _fernet():
    return MultiFernet([Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))
                        for key in settings.WEBHOOK_ENCRYPTION_KEYS])


def seal(secret):
    """The secret encrypted for storage: we must sign with it, so a digest will not do."""
    return _fernet().encrypt(secret.encode()).decode()


def unseal(token):
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("This webhook secret was sealed under a key no longer configured "
                         "(WEBHOOK_ENCRYPTION_KEY); set a new secret.") from None


def signature(secret, message_id, timestamp, body):
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the secret's bytes (Standard Webhooks)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signatures(webhook, message_id, timestamp, body, now=None):
    """Signed with the current secret, and during a rotation's overlap with the previous one too."""
    now = now or timezone.now()
    sealed = [webhook.secret]
    if webhook.previous_secret and webhook.previous_until and webhook.previous_until > now:
        sealed.append(webhook.previous_secret)
    return " ".join(signature(unseal(s), message_id, timestamp, body) for s in sealed)


# --- Where a webhook may point (SSRF) ------------------------------------------------------------------------

class UnsafeURL(ValueError):
    """A webhook URL we will not call; the message says why, for a partner manager."""


def allowed_address(ip):
    """Only public addresses; loopback too where WEBHOOK_ALLOW_LOOPBACK says so (tests, development). Private,
    link-local (cloud metadata at 169.254.169.254 among them), shared, reserved and multicast never."""
    ip = ipaddress.ip_address(ip)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return settings.WEBHOOK_ALLOW_LOOPBACK
    return ip.is_global and not ip.is_multicast


def resolve(url):
    """(parts, host, port, addresses) for a URL we may call; UnsafeURL otherwise. Every address the name has must
    be allowed: the one connected to is one of them, so a name cannot point somewhere else between check and
    call (see post)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("That is not a URL.") from None
    host = parts.hostname
    if parts.scheme not in ("https", "http") or not host:
        raise UnsafeURL("The webhook URL must be an https:// address.")
    if parts.username or parts.password:
        raise UnsafeURL("The webhook URL may not carry a user name or password.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except (socket.gaierror, UnicodeError):
        raise UnsafeURL(f"The name {host} does not resolve.") from None
    refused = sorted(a for a in found if not allowed_address(a.split("%")[0]))
    if refused:
        raise UnsafeURL(f"{host} resolves to {', '.join(refused)}: a private, loopback, link-local or otherwise "
                        "non-public address. Webhooks go only to public addresses.")
    loopback = all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in found)
    if parts.scheme != "https" and not (loopback and settings.WEBHOOK_ALLOW_LOOPBACK):
        raise UnsafeURL("The webhook URL must be an https:// address.")
    return parts, host, port, sorted(found)


def post(url, body, headers):
    """POST to the webhook, connecting to an address checked just now, following no redirect. Returns
    (status code or None, the answer's first characters, error or "")."""
    try:
        parts, host, port, addresses = resolve(url)
    except UnsafeURL as refusal:
        return None, "", str(refusal)
    timeout = urllib3.Timeout(connect=settings.PUSH_TIMEOUT, read=settings.PUSH_TIMEOUT)
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(addresses[0], port, server_hostname=host, assert_hostname=host,
                                           cert_reqs="CERT_REQUIRED", timeout=timeout, retries=False)
    else:
        pool = urllib3.HTTPConnectionPool(addresses[0], port, timeout=timeout, retries=False)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        with pool:
            response = pool.urlopen("POST", target, body=body, headers={**headers, "Host": parts.netloc},
                                    redirect=False, preload_content=False)
            excerpt = response.read(DeliveryAttempt.EXCERPT * 4, decode_content=True).decode("utf-8", "replace")
            response.release_conn()
    except urllib3.exceptions.HTTPError as failure:
        return None, "", f"{type(failure).__name__}: {failure}"[:300]
    error = "Redirects are not followed: point the webhook at its final URL." if 300 <= response.status < 400 else ""
    return response.status, excerpt[:DeliveryAttempt.EXCERPT], error


# --- Cutting changes into deliveries --------------------------------------------------------------------------

def body_of(event, data, message_id):
    return json.dumps({"type": event, "timestamp": timezone.now().isoformat(), "id": message_id, "data": data},
                      separators=(",", ":"))


def new_message_id():
    return "msg_" + secrets.token_hex(12)


def cut(webhook):
    """Cut the partner's settled changes after its cursor into Deliveries (up to CUT_PER_ROUND); returns how
    many. A partner new to push starts at the beginning: it first receives every hash it may hold now (the
    feed's rules: never those withdrawn before it arrived), then changes."""
    made = 0
    while made < CUT_PER_ROUND:
        with transaction.atomic():
            locked = Webhook.objects.select_for_update().select_related("partner").get(pk=webhook.pk)
            position = (locked.cursor_txid, locked.cursor_change_id)
            records, end, has_more = feed.page(locked.partner, position, settings.PUSH_BATCH_SIZE)
            if end == position:
                return made
            if records:
                message_id = new_message_id()
                Delivery.objects.create(
                    partner=locked.partner, message_id=message_id, txid=end[0], change_id=end[1],
                    body=body_of("hashes.changed", {"records": records}, message_id), records=len(records),
                    withdrawals=sum(r["status"] == "withdrawn" for r in records))
                made += 1
            Webhook.objects.filter(pk=locked.pk).update(cursor_txid=end[0], cursor_change_id=end[1])
        if not has_more:
            return made
    return made


# --- Sending ------------------------------------------------------------------------------------------------

def retry_delay(attempts):
    """Seconds before the next try after `attempts` failures (schedule from settings, ±20 % jitter), or None
    once the schedule is spent."""
    schedule = settings.PUSH_RETRY_SCHEDULE
    if attempts > len(schedule):
        return None
    return schedule[attempts - 1] * random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not security)


def send(delivery, webhook):
    """One POST of the delivery; records the attempt and its consequence. True if the partner took it."""
    timestamp = int(time.time())
    body = delivery.body.encode()
    headers = {"Content-Type": "application/json", "User-Agent": "helpline-portal-push/1",
               "webhook-id": delivery.message_id, "webhook-timestamp": str(timestamp),
               "webhook-signature": signatures(webhook, delivery.message_id, timestamp, body)}
    started = time.monotonic()
    status, excerpt, error = post(webhook.url, body, headers)
    took = int((time.monotonic() - started) * 1000)
    ok = status is not None and 200 <= status < 300 and not error
    if status is not None and not ok and not error:
        error = f"The webhook answered {status}."
    with transaction.atomic():
        DeliveryAttempt.objects.create(delivery=delivery, status_code=status, milliseconds=took, excerpt=excerpt,
                                       error=error)
        delivery.attempts += 1
        if ok:
            delivered(delivery, webhook)
        else:
            failed(delivery, webhook)
    return ok


def delivered(delivery, webhook):
    delivery.state, delivery.delivered_at = Delivery.State.DELIVERED, timezone.now()
    delivery.save(update_fields=["state", "delivered_at", "attempts"])
    if delivery.txid is not None:
        FeedPosition.objects.update_or_create(partner=webhook.partner, feed=FeedPosition.Feed.PUSH, defaults={
            "fetched_at": delivery.delivered_at, "txid": delivery.txid, "change_id": delivery.change_id})
        Handover.objects.create(partner=webhook.partner, feed=FeedPosition.Feed.PUSH, at=delivery.delivered_at,
                                txid=delivery.txid, change_id=delivery.change_id)
    if webhook.ack_on_2xx and delivery.withdrawals:
        acknowledge_withdrawals(delivery, webhook.partner)


def acknowledge_withdrawals(delivery, partner):
    """For partners whose 2xx applies a withdrawal: one acknowledgement per withdrawal, as the API would record."""
    told = [(r["signal_type"], r["value"]) for r in json.loads(delivery.body)["data"]["records"]
            if r["status"] == "withdrawn"]
    query = Q()
    for signal_type, value in told:
        query |= Q(signal_type=signal_type, value=value)
    for bank_hash in BankHash.objects.filter(query):
        if not bank_hash.is_shareable:
            Outcome.objects.get_or_create(
                partner=partner, bank_hash=bank_hash, value=Outcome.Value.WITHDRAWN, acted_at=bank_hash.changed,
                defaults={"signal_type": bank_hash.signal_type, "via": "push"})


def failed(delivery, webhook):
    from partners import alerts

    delay = retry_delay(delivery.attempts)
    if delay is None:
        delivery.state = Delivery.State.PARKED
        delivery.save(update_fields=["state", "attempts"])
        if webhook.degraded_at is None:
            Webhook.objects.filter(pk=webhook.pk).update(degraded_at=timezone.now())
            transaction.on_commit(lambda: alerts.push_parked(webhook.partner, delivery))
        return
    delivery.due_at = timezone.now() + timedelta(seconds=delay)
    delivery.save(update_fields=["due_at", "attempts"])


# --- Rounds -------------------------------------------------------------------------------------------------

def pushing():
    """Webhooks that push now: of live partners set to push, not paused."""
    return Webhook.objects.filter(partner__state=Partner.State.LIVE, paused=False,
                                  partner__delivery__in=[Partner.Delivery.PUSH, Partner.Delivery.BOTH])


def due_partner_ids(now=None):
    """Partners with something to send now: a pending delivery due (their oldest), or changes not yet cut."""
    now = now or timezone.now()
    ids = []
    for webhook in pushing().select_related("partner"):
        head = webhook.partner.deliveries.exclude(state=Delivery.State.DELIVERED).order_by("id").first()
        if head is not None:
            if head.state == Delivery.State.PENDING and head.due_at <= now:
                ids.append(webhook.partner_id)
        elif BankChange.objects.settled().after(webhook.cursor_txid, webhook.cursor_change_id).exists():
            ids.append(webhook.partner_id)
    return ids


def claim(partner_id, now):
    """Take the partner's lease: one round at a time per partner, so its batches go in order."""
    return pushing().filter(partner_id=partner_id).filter(
        Q(lease_until=None) | Q(lease_until__lt=now)).update(
        lease_until=now + timedelta(seconds=settings.PUSH_LEASE_SECONDS)) == 1


def renew(partner_id):
    """Keep the lease while this round lives (PUSH_LEASE_SECONDS outlasts one call); a dead worker stops
    renewing, and the partner is free again when it runs out."""
    Webhook.objects.filter(partner_id=partner_id).update(
        lease_until=timezone.now() + timedelta(seconds=settings.PUSH_LEASE_SECONDS))


def run(partner_id):
    """One round for a partner: cut, then send its oldest pending deliveries while they succeed. Returns the
    seconds until it is worth another round (0: at once, there is more), or None when nothing waits."""
    if not claim(partner_id, timezone.now()):
        return None
    started = time.monotonic()
    try:
        webhook = Webhook.objects.select_related("partner").get(partner_id=partner_id)
        while time.monotonic() - started < ROUND_SECONDS:
            cut(webhook)
            head = webhook.partner.deliveries.exclude(state=Delivery.State.DELIVERED).order_by("id").first()
            if head is None:
                return None
            if head.state == Delivery.State.PARKED:
                return None  # resumed by a person
            wait = (head.due_at - timezone.now()).total_seconds()
            if wait > 0:
                return wait
            webhook.refresh_from_db()  # a rotation or a new URL applies from the next call
            if webhook.paused:
                return None
            renew(partner_id)
            send(head, webhook)
        return 0
    finally:
        Webhook.objects.filter(partner_id=partner_id).update(lease_until=None)


def ask(task, *args, countdown=0):
    """Queue a push task now, or say it could not be: a broker that is down fails at once rather than holding a
    caller's request through kombu's retries (beat's re-drive covers what this misses)."""
    from ncii_portal.celery import app

    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0, timeout=2)
            task.apply_async(args, countdown=countdown, retry=False, connection=connection)
        return True
    except Exception:  # noqa: BLE001 (any broker failure)
        logger.warning("could not ask for a push round (broker unreachable?); beat will re-drive it")
        return False


SOON = "partners.push.soon"  # set while a round is asked for and has not started yet


def soon():
    """After a bank change commits: ask for a push round in PUSH_BATCH_WAIT, once however many changes commit
    meanwhile (the round clears the mark as it starts, so a later commit asks again). The change is safe in the
    log whatever happens here; beat re-drives what this misses."""
    from partners import tasks

    asked = cache.add(SOON, 1, timeout=60 + math.ceil(settings.PUSH_BATCH_WAIT))
    if asked and not ask(tasks.push_due, countdown=settings.PUSH_BATCH_WAIT):
        cache.delete(SOON)


# --- Health, for the partner page -----------------------------------------------------------------------------

def health(partner):
    """Backlog, oldest undelivered, last success, failure streak, and the latest attempts (the delivery log)."""
    waiting = partner.deliveries.exclude(state=Delivery.State.DELIVERED)
    attempts = DeliveryAttempt.objects.filter(delivery__partner=partner).select_related("delivery")
    last_success = attempts.filter(status_code__gte=200, status_code__lt=300, error="").order_by("-at").first()
    streak = attempts.filter(at__gt=last_success.at) if last_success else attempts
    oldest = waiting.order_by("id").first()
    return {
        "backlog": waiting.count(),
        "backlog_records": sum(waiting.values_list("records", flat=True)),
        "parked": waiting.filter(state=Delivery.State.PARKED).count(),
        "oldest": oldest.created if oldest else None,
        "last_success": last_success.at if last_success else None,
        "failure_streak": streak.count(),
        "log": list(attempts.order_by("-at", "-id")[:20]),
    }
