"""Push: the bank's changes to partners' webhooks, signed per Standard Webhooks, in order, retried until they are
delivered, parked (never dropped) when retries run out.

The route: a bank change is written with its BankChange row (the outbox) in one transaction; after commit a
push round is queued (partners.tasks.queue_push_round), and beat queues one every PUSH_REDRIVE_SECONDS anyway, so
a lost broker message or a dead worker delays a delivery but never loses it. A round (`run_round`) takes a
partner's lease, cuts its new changes into batches (`make_batches`: Deliveries, fixed bodies, one webhook-id
each) and sends them oldest first until one fails or the time is up.
"""

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import random
import secrets
import socket
import time
from datetime import timedelta
from urllib.parse import urlsplit

import urllib3
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from core import lookups
from hashing import signal_types
from hashing.models import BankChange, BankHash
from partners import addresses, alerts, feed, handovers, outcomes, records
from partners.models import Delivery, DeliveryAttempt, FeedPosition, Partner, Webhook

logger = logging.getLogger(__name__)

BATCHES_PER_ROUND = 5  # batches cut at a time: a backfill of a large bank is cut as it is sent
BACKLOG = 5  # no more cutting while this many batches wait: bodies are stored only shortly before they go
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
    signed = [signature(unseal(webhook.secret), message_id, timestamp, body)]
    if webhook.previous_secret and webhook.previous_until and webhook.previous_until > now:
        try:
            signed.append(signature(unseal(webhook.previous_secret), message_id, timestamp, body))
        except ValueError:
            logger.warning("the previous webhook secret of partner %s cannot be read; signing with the new one",
                           webhook.partner_id)
    return " ".join(signed)


# --- Where a webhook may point (SSRF) ------------------------------------------------------------------------

# IPv6 forms that carry an IPv4 address to somewhere else: NAT64, 6to4, Teredo, IPv4-compatible, SIIT
# (::ffff:0:0:0/96, which Python counts as global); and site-local fec0::/10, deprecated but still routed inside
# some networks, which Python counts as global too.
TUNNELS = [ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32", "::/96",
                                             "::ffff:0:0:0/96", "fec0::/10")]


class UnsafeURL(ValueError):
    """A webhook URL we will not call; the message says why, for a partner manager."""


def allowed_address(ip):
    """Only public addresses; loopback too where WEBHOOK_ALLOW_LOOPBACK says so (tests, development). Private,
    link-local (cloud metadata at 169.254.169.254 among them), shared, reserved and multicast never."""
    ip = ipaddress.ip_address(ip)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in network for network in TUNNELS):
        return False  # an IPv4 address inside, which could be anything
    if ip.is_loopback:
        return settings.WEBHOOK_ALLOW_LOOPBACK
    return ip.is_global and not ip.is_multicast


def resolve(url, https_only=True):
    """(parts, host, port, addresses) for a URL we may call; UnsafeURL otherwise. Every address the name has must
    be allowed: the one connected to is one of them, so a name cannot point somewhere else between check and
    call (see post). Webhooks must be https (`https_only`); the takedown check asks http addresses too."""
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
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeURL(f"The name {host} does not resolve.") from None
    found = {info[4][0] for info in infos}
    refused = sorted(a for a in found if not allowed_address(a.split("%")[0]))
    if refused:
        raise UnsafeURL(f"{host} resolves to {', '.join(refused)}: a private, loopback, link-local or otherwise "
                        "non-public address. Webhooks go only to public addresses.")
    loopback = all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in found)
    if https_only and parts.scheme != "https" and not (loopback and settings.WEBHOOK_ALLOW_LOOPBACK):
        raise UnsafeURL("The webhook URL must be an https:// address.")
    return parts, host, port, [a for a in dict.fromkeys(info[4][0] for info in infos)]


def pinned_pool(parts, host, port, address, timeout):
    """A connection pool to one of the addresses resolve() checked, speaking to `host` there (its certificate
    checked for https): the name is never looked up again, so it cannot be re-pointed between check and call."""
    if parts.scheme == "https":
        return urllib3.HTTPSConnectionPool(address, port, server_hostname=host, assert_hostname=host,
                                           cert_reqs="CERT_REQUIRED", timeout=timeout, retries=False)
    return urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)


def post(url, body, headers):
    """POST to the webhook, connecting to the addresses checked just now (in the resolver's order, the next if
    one cannot be reached), following no redirect, all within 2 × PUSH_TIMEOUT. Returns (status code or None,
    the answer's first characters, error or "")."""
    try:
        parts, host, port, addresses = resolve(url)
    except UnsafeURL as refusal:
        return None, "", str(refusal)
    deadline = time.monotonic() + 2 * settings.PUSH_TIMEOUT
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    failure = "no address"
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        wait = min(settings.PUSH_TIMEOUT, remaining)
        timeout = urllib3.Timeout(connect=wait, read=wait)
        pool = pinned_pool(parts, host, port, address, timeout)
        try:
            with pool:
                response = pool.urlopen("POST", target, body=body, headers={**headers, "Host": parts.netloc},
                                        redirect=False, preload_content=False)
                excerpt = read_excerpt(response, deadline)
        except urllib3.exceptions.NewConnectionError as error:
            failure = f"{type(error).__name__}: {error}"
            continue  # the next address
        except urllib3.exceptions.HTTPError as error:
            return None, "", clean(f"{type(error).__name__}: {error}")
        redirect = "Redirects are not followed: point the webhook at its final URL."
        return response.status, excerpt, redirect if 300 <= response.status < 400 else ""
    return None, "", clean(failure if failure != "no address" else "The webhook did not answer in time.")


def read_excerpt(response, deadline):
    """The answer's first characters, best effort: the status line already said what happened."""
    chunks, size = [], 0
    try:
        while size < DeliveryAttempt.EXCERPT * 4 and time.monotonic() < deadline:
            chunk = response.read(256, decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        response.release_conn()
    except (urllib3.exceptions.HTTPError, OSError):
        pass  # a reset or undecodable body after the status: the status stands
    return clean(b"".join(chunks).decode("utf-8", "replace"))[:DeliveryAttempt.EXCERPT]


def clean(text):
    """Text PostgreSQL can store (no NUL), bounded."""
    return text.replace("\x00", "")[:300]


# --- Cutting changes into deliveries --------------------------------------------------------------------------

def body_of(event, data, message_id):
    return json.dumps({"type": event, "timestamp": timezone.now().isoformat(), "id": message_id, "data": data},
                      separators=(",", ":"))


def new_message_id():
    return "msg_" + secrets.token_hex(12)


def make_batches(webhook):
    """Cut the partner's settled changes after its cursor into Deliveries (up to BATCHES_PER_ROUND); returns how
    many. A partner new to push starts at the beginning: it first receives every hash it may hold now (the
    feed's rules: never those withdrawn before it arrived), then changes."""
    made = make_address_batches(webhook)
    while made < BATCHES_PER_ROUND:
        with transaction.atomic():
            locked = Webhook.objects.select_for_update().select_related("partner").get(pk=webhook.pk)
            position = (locked.cursor_txid, locked.cursor_change_id)
            told, end, has_more = feed.page(locked.partner, position, settings.PUSH_BATCH_SIZE,
                                            seen=(locked.sent_txid, locked.sent_change_id))
            if end == position:
                return made
            if told:
                message_id = new_message_id()
                Delivery.objects.create(
                    partner=locked.partner, message_id=message_id, txid=end[0], change_id=end[1],
                    body=body_of("hashes.changed", {"records": told}, message_id), records=len(told),
                    withdrawals=sum(map(records.withdraws, told)))
                made += 1
            else:
                nothing_to_tell(locked.partner, end)
            Webhook.objects.filter(pk=locked.pk).update(cursor_txid=end[0], cursor_change_id=end[1])
        if not has_more:
            return made
    return made


def make_address_batches(webhook):
    """Cut the partner's own web addresses (partners.addresses) sent since its last batch of them into a
    Delivery of event urls.changed (one batch a round; no hash position: it moves nothing of the hash feed's, but
    its own, which the partner has read once the batch is delivered)."""
    with transaction.atomic():
        locked = Webhook.objects.select_for_update().select_related("partner").get(pk=webhook.pk)
        position = (locked.address_txid, locked.address_row)
        told, end, _has_more = addresses.page(locked.partner, position, settings.PUSH_BATCH_SIZE)
        if end == position:
            return 0
        if told:
            message_id = new_message_id()
            Delivery.objects.create(partner=locked.partner, message_id=message_id, event="urls.changed",
                                    body=body_of("urls.changed", {"records": told}, message_id), records=len(told),
                                    address_txid=end[0], address_row=end[1])
        else:
            no_address_to_tell(locked.partner, end)
        Webhook.objects.filter(pk=locked.pk).update(address_txid=end[0], address_row=end[1])
        return 1 if told else 0


def no_address_to_tell(partner, end):
    """Address rows up to `end` hold nothing for this partner (purged, or withdrawn before it had them): as
    nothing_to_tell, the last address batch waiting now ends there, or with none waiting its position moves."""
    last = queue(partner).filter(address_txid__isnull=False).last()
    if last is not None:
        Delivery.objects.filter(pk=last.pk).update(address_txid=end[0], address_row=end[1])
    else:
        reached(partner, end, timezone.now(), ADDRESSES)


def nothing_to_tell(partner, end):
    """Changes up to `end` hold nothing for this partner (e.g. hashes withdrawn before it ever had them): it has
    heard all it needs of them once what comes before is delivered. So the last batch waiting, if any, now ends
    there; with none waiting, the partner's push position moves there at once (retention waits on it)."""
    last = queue(partner).last()
    if last is not None:
        Delivery.objects.filter(pk=last.pk).update(txid=end[0], change_id=end[1])
    else:
        reached(partner, end, timezone.now())


# --- Sending ------------------------------------------------------------------------------------------------

def retry_delay(attempts):
    """Seconds before the next try after `attempts` failures (schedule from settings, ±20 % jitter), or None
    once the schedule is spent."""
    schedule = settings.PUSH_RETRY_SCHEDULE
    if attempts > len(schedule):
        return None
    return schedule[attempts - 1] * random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not security)


def send(delivery, webhook):
    """One POST of the delivery; records the attempt and, for a batch, its consequence. True if the partner took
    it. Whatever goes wrong here (a secret that cannot be read, a network error) is a failed attempt, so it goes
    the way of every failure: retried, then parked and alerted, never silently repeated."""
    started = time.monotonic()
    try:
        timestamp = int(time.time())
        body = delivery.body.encode()
        headers = {"Content-Type": "application/json", "User-Agent": "helpline-portal-push/1",
                   "webhook-id": delivery.message_id, "webhook-timestamp": str(timestamp),
                   "webhook-signature": signatures(webhook, delivery.message_id, timestamp, body)}
        status, excerpt, error = post(webhook.url, body, headers)
    except Exception as failure:  # noqa: BLE001 (see the docstring)
        logger.exception("push to partner %s failed before an answer", webhook.partner_id)
        status, excerpt, error = None, "", clean(f"{type(failure).__name__}: {failure}")
    took = int((time.monotonic() - started) * 1000)
    ok = status is not None and 200 <= status < 300 and not error
    if status is not None and not ok and not error:
        error = f"The webhook answered {status}."
    with transaction.atomic():
        DeliveryAttempt.objects.create(delivery=delivery, status_code=status, milliseconds=took, excerpt=excerpt,
                                       error=error)
        if delivery.state == Delivery.State.TEST:
            Delivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts + 1)
        elif ok:
            delivered(delivery, webhook)
        else:
            failed(delivery, webhook)
    return ok


def settle(delivery, **fields):
    """Record a batch's result only if it is still as this round read it: a round that outlived its lease
    must not overwrite what another did since."""
    return Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.PENDING, attempts=delivery.attempts
                                   ).update(attempts=delivery.attempts + 1, **fields) == 1


def delivered(delivery, webhook):
    now = timezone.now()
    if not settle(delivery, state=Delivery.State.DELIVERED, delivered_at=now):
        return
    if delivery.txid is not None:
        position = (delivery.txid, delivery.change_id)
        reached(webhook.partner, position, now)
        handovers.handed_over(webhook.partner, FeedPosition.Route.PUSH, now, txid=position[0], change_id=position[1])
    if delivery.address_txid is not None:
        reached(webhook.partner, (delivery.address_txid, delivery.address_row), now, ADDRESSES)
    if webhook.ack_on_2xx and delivery.withdrawals:
        acknowledge_withdrawals(delivery, webhook.partner)


HASHES = ("txid", "change_id")  # the push position's fields for the bank's changes
ADDRESSES = ("address_txid", "address_row")  # and for the partner's own web addresses (partners.addresses)


def reached(partner, position, now, fields=HASHES):
    """The partner has had, by push, everything up to `position` in the order of `fields` (HASHES, or
    ADDRESSES, on which retention waits: partners.addresses.told); the position only moves forward. A delivery
    of the bank's changes is also its latest fetch."""
    pushed = dict(zip(fields, position, strict=True))
    moved = FeedPosition.objects.filter(
        Q(lookups.before(fields, position)) | Q(**{f"{fields[0]}__isnull": True}),
        partner=partner, route=FeedPosition.Route.PUSH,
    ).update(**pushed, **({"fetched_at": now} if fields == HASHES else {}))
    if not moved:
        FeedPosition.objects.get_or_create(partner=partner, route=FeedPosition.Route.PUSH,
                                           defaults={"fetched_at": now, **pushed})


def acknowledge_withdrawals(delivery, partner):
    """For partners whose 2xx applies a withdrawal: one acknowledgement per withdrawal, as the API would record."""
    told = [(r["signal_type"], r["value"]) for r in json.loads(delivery.body)["data"]["records"]
            if records.withdraws(r)]
    query = Q()
    for signal_type, value in told:
        query |= Q(signal_type=signal_type, value=signal_types.get(signal_type).key(value))
    for bank_hash in BankHash.objects.filter(query):
        if not bank_hash.is_shareable:
            outcomes.acknowledge_withdrawal(partner, bank_hash, via="push")


def failed(delivery, webhook):
    delay = retry_delay(delivery.attempts + 1)
    if delay is None:
        if settle(delivery, state=Delivery.State.PARKED) and webhook.degraded_at is None:
            Webhook.objects.filter(pk=webhook.pk).update(degraded_at=timezone.now())
            transaction.on_commit(lambda: alert_parked(webhook.partner, delivery))
        return
    settle(delivery, due_at=timezone.now() + timedelta(seconds=delay))


def alert_parked(partner, delivery):
    try:
        alerts.push_parked(partner, delivery)
    except Exception:  # noqa: BLE001 (the banner on the partner page still shows it)
        logger.exception("could not mail partner managers that push to %s stopped", partner.slug)


# --- Rounds -------------------------------------------------------------------------------------------------

def pushing():
    """Webhooks that push now: of live partners set to push, not paused."""
    return Webhook.objects.filter(partner__state=Partner.State.LIVE, paused=False,
                                  partner__delivery__in=[Partner.Delivery.PUSH, Partner.Delivery.BOTH])


def queue(partner):
    """The partner's batches still to deliver, oldest first."""
    return partner.deliveries.undelivered().order_by("id")


def drop_undelivered(partner):
    """Drop the partner's batches not yet delivered (their bodies hold hash values), for a partner that is not
    live: offboarded, or suspended for longer than deliveries are kept. Its webhook's cursor goes back to what was
    really delivered, so that should it push again it is cut afresh from there, from the bank as it is then: it
    is told of what was withdrawn meanwhile, also of what it was sent in a batch it answered with an error (it may
    have applied it), and not of what it never had. Returns how many were dropped."""
    with transaction.atomic():
        webhook = Webhook.objects.select_for_update().filter(partner=partner).first()  # no round cuts meanwhile
        sent = queue(partner).filter(attempts__gt=0, txid__isnull=False).order_by("-txid", "-change_id").first()
        dropped = queue(partner).delete()[1].get(Delivery._meta.label, 0)  # not counting their attempts
        if webhook is None:
            return dropped
        # A batch it answered with an error it may have applied all the same: its withdrawals are still told.
        if sent is not None and (sent.txid, sent.change_id) > (webhook.sent_txid, webhook.sent_change_id):
            webhook.sent_txid, webhook.sent_change_id = sent.txid, sent.change_id
        delivered_to = FeedPosition.objects.filter(partner=partner, route=FeedPosition.Route.PUSH).first()
        webhook.cursor_txid = (delivered_to and delivered_to.txid) or 0
        webhook.cursor_change_id = (delivered_to and delivered_to.change_id) or 0
        # Its own web addresses likewise: a dropped batch of them (a withdrawal among them) is cut again.
        webhook.address_txid = (delivered_to and delivered_to.address_txid) or 0
        webhook.address_row = (delivered_to and delivered_to.address_row) or 0
        webhook.save(update_fields=["sent_txid", "sent_change_id", "cursor_txid", "cursor_change_id",
                                    "address_txid", "address_row"])
    return dropped


def due_partner_ids(now=None):
    """Partners with something to send now: a pending delivery due (their oldest), or changes not yet cut (of
    the bank, or of its own web addresses)."""
    now = now or timezone.now()
    ids = []
    for webhook in pushing().select_related("partner"):
        head = queue(webhook.partner).first()
        if head is not None:
            if head.state == Delivery.State.PENDING and head.due_at <= now:
                ids.append(webhook.partner_id)
        elif (BankChange.objects.settled().after(webhook.cursor_txid, webhook.cursor_change_id).exists()
              or addresses.waiting(webhook.partner, (webhook.address_txid, webhook.address_row))):
            ids.append(webhook.partner_id)
    return ids


def claim(partner_id, now):
    """Take the partner's lease, under a token of this round's own: one round at a time per partner, so its
    batches go in order. Returns the token, or None if another round holds the lease."""
    token = secrets.token_hex(8)
    taken = pushing().filter(partner_id=partner_id).filter(Q(lease_until=None) | Q(lease_until__lt=now)).update(
        lease_until=now + timedelta(seconds=settings.PUSH_LEASE_SECONDS), lease_owner=token)
    return token if taken else None


def renew(partner_id, token):
    """Keep the lease while this round lives (PUSH_LEASE_SECONDS outlasts one call). False if it was lost (the
    round took too long and another took over): this round must stop."""
    return Webhook.objects.filter(partner_id=partner_id, lease_owner=token).update(
        lease_until=timezone.now() + timedelta(seconds=settings.PUSH_LEASE_SECONDS)) == 1


def run_round(partner_id):
    """One round for a partner: cut, then send its oldest pending deliveries while they succeed. Returns the
    seconds until it is worth another round (0: at once, there is more), or None when nothing waits."""
    token = claim(partner_id, timezone.now())
    if token is None:
        return None
    started = time.monotonic()
    try:
        while time.monotonic() - started < ROUND_SECONDS:
            webhook = pushing().select_related("partner").filter(partner_id=partner_id).first()
            if webhook is None:
                return None  # paused, suspended or set to pull since the round began
            if queue(webhook.partner).count() < BACKLOG:
                make_batches(webhook)
            head = queue(webhook.partner).first()
            if head is None or head.state == Delivery.State.PARKED:
                return None  # nothing to send, or waiting for a person to resume
            wait = (head.due_at - timezone.now()).total_seconds()
            if wait > 0:
                return wait
            if not renew(partner_id, token):
                return None
            send(head, webhook)
        return 0
    finally:
        Webhook.objects.filter(partner_id=partner_id, lease_owner=token).update(lease_until=None, lease_owner="")


# --- Health, for the partner page -----------------------------------------------------------------------------

def health(partner):
    """Backlog, oldest undelivered, last success, failure streak, and the latest attempts (the delivery log)."""
    waiting = queue(partner)
    attempts = DeliveryAttempt.objects.filter(delivery__partner=partner).select_related("delivery").defer(
        "delivery__body")  # a batch's body is large; the log needs its id and size
    batches = attempts.exclude(delivery__state=Delivery.State.TEST)
    last_success = batches.filter(status_code__gte=200, status_code__lt=300, error="").order_by("-at").first()
    streak = batches.filter(at__gt=last_success.at) if last_success else batches
    oldest = waiting.order_by("id").first()
    return {
        "backlog": waiting.count(),
        "backlog_records": waiting.aggregate(n=Sum("records"))["n"] or 0,
        "parked": waiting.filter(state=Delivery.State.PARKED).count(),
        "oldest": oldest.created if oldest else None,
        "last_success": last_success.at if last_success else None,
        "failure_streak": streak.count(),
        "log": list(attempts.order_by("-at", "-id")[:20]),
    }
