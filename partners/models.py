"""Partner platforms, their onboarding, and their API keys.

A key is a public id plus a secret; only an HMAC-SHA256 digest of the secret is stored, under a server secret
(settings.API_KEY_SECRETS) that can be rotated: each digest records which server secret made it.
"""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from hashing.models import ClockTime, TransactionId


class PartnerQuerySet(models.QuerySet):
    def live(self):
        return self.filter(state=Partner.State.LIVE)

    def owed_withdrawals(self):
        """Partners that must be told of a withdrawal of anything they received: every one not offboarded. A
        suspended partner still blocks what it had, and hears of withdrawals when it comes back."""
        return self.exclude(state=Partner.State.OFFBOARDED)


class Partner(models.Model):
    class State(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        VETTING = "vetting", "Vetting"
        AGREEMENT = "agreement", "Agreement signed"
        INTEGRATION = "integration", "Integration (sandbox)"
        LIVE = "live", "Live"
        SUSPENDED = "suspended", "Suspended"
        OFFBOARDED = "offboarded", "Offboarded"

    class Delivery(models.TextChoices):
        PULL = "pull", "Pull (the partner fetches the feed)"
        PUSH = "push", "Push (webhooks)"
        BOTH = "both", "Pull and push"

    # Named moves (partners.onboarding.move_partner): from which states, to which. "go_live" also needs what
    # partners.onboarding.readiness reads from the records; "go_live" and "resume" need the checklist's ticks.
    MOVES = {
        "start_vetting": ((State.PROSPECT,), State.VETTING),
        "sign_agreement": ((State.VETTING,), State.AGREEMENT),
        "start_integration": ((State.AGREEMENT,), State.INTEGRATION),
        "go_live": ((State.INTEGRATION,), State.LIVE),
        "suspend": ((State.LIVE,), State.SUSPENDED),
        "resume": ((State.SUSPENDED,), State.LIVE),
        "offboard": ((State.PROSPECT, State.VETTING, State.AGREEMENT, State.INTEGRATION, State.LIVE,
                      State.SUSPENDED), State.OFFBOARDED),
    }
    # The onboarding checklist's ticks: what only a person can confirm, each true before "live". The rest of
    # what going live needs is read from the records (partners.onboarding.readiness).
    CHECKLIST = [
        ("agreement_signed", "Agreement and data-processing terms signed"),
        ("security_review", "Security review passed"),
    ]

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PROSPECT, db_index=True)
    signal_types = models.JSONField(default=list, blank=True)  # codes from hashing.signal_types
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.PULL)
    agreement_signed = models.BooleanField(default=False)
    security_review = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)

    objects = PartnerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def unticked(self):
        """The checklist's ticks not given yet, by their labels."""
        return [label for field, label in self.CHECKLIST if not getattr(self, field)]

    @staticmethod
    def move_label(move):
        """A move as its button says it: "go_live" is "Go live"."""
        return move.replace("_", " ").capitalize()

    def wants(self, signal_type):
        """It takes this signal type (no list: every type)."""
        return not self.signal_types or signal_type in self.signal_types

    def wants_q(self, prefix=""):
        """`wants` as a filter on bank hashes (`prefix` "bank_hash__" from their changes)."""
        return models.Q(**{f"{prefix}signal_type__in": self.signal_types}) if self.signal_types else models.Q()

    @staticmethod
    def wants_sql(alias):
        """`wants` as SQL, for a partners_partner row under `alias` and a hashing_bankhash row."""
        return (f"({alias}.signal_types = '[]'::jsonb "
                f"OR jsonb_exists({alias}.signal_types, hashing_bankhash.signal_type))")


class PartnerContact(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    role = models.CharField(max_length=100, blank=True)

    def __str__(self):
        return f"{self.name} <{self.email}>"


def server_secret_id(secret):
    return hashlib.sha256(secret.encode()).hexdigest()[:8]


def key_digest(secret, server_secret):
    return hmac.new(server_secret.encode(), secret.encode(), hashlib.sha256).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def working(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at=None).filter(models.Q(expires_at=None) | models.Q(expires_at__gt=now))


class ApiKey(models.Model):
    class Scope(models.TextChoices):
        FETCH = "fetch", "Fetch the hash feed"
        FEEDBACK = "feedback", "Report outcomes"
        SUBMIT = "submit", "Contribute hashes"

    PREFIX = "ncii"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="keys")
    label = models.CharField(max_length=100, blank=True)
    public_id = models.CharField(max_length=40, unique=True)
    digest = models.CharField(max_length=64)
    server_secret_id = models.CharField(max_length=8)  # which of settings.API_KEY_SECRETS made the digest
    scopes = models.JSONField(default=list)
    created = models.DateTimeField(default=timezone.now)
    created_by_label = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return self.public_id

    @classmethod
    def new_credentials(cls):
        """(public id, secret) for a new key; the secret is shown once and kept only as a digest."""
        return f"pk{secrets.token_hex(10)}", secrets.token_urlsafe(32)

    def set_secret(self, secret):
        current = settings.API_KEY_SECRETS[0]
        self.digest, self.server_secret_id = key_digest(secret, current), server_secret_id(current)

    def matches(self, secret):
        """Constant-time check of a presented secret, under whichever server secret made the digest."""
        for server_secret in settings.API_KEY_SECRETS:
            if server_secret_id(server_secret) == self.server_secret_id:
                return hmac.compare_digest(self.digest, key_digest(secret, server_secret))
        return False  # made under a server secret no longer configured

    @classmethod
    def decoy(cls):
        """A key no secret matches, under the current server secret: an unknown public id is checked against it,
        so that it costs what a wrong secret costs (one digest, one comparison) and its answer comes as fast."""
        return cls(digest="0" * 64, server_secret_id=server_secret_id(settings.API_KEY_SECRETS[0]))

    def is_working(self, now=None):
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)



class Outcome(models.Model):
    """One report from a partner about one bank hash: every report is kept, in order of arrival.

    PendingReview: a match, in review; Blocked: matched and actioned; NotBlocked: matched, judged not NCII;
    Removed: content taken down. From the StopNCII API also None and QualityUnknown (tags only), and Withdrawn
    or Deleted, which acknowledge a withdrawal.
    """

    class Value(models.TextChoices):
        PENDING_REVIEW = "PendingReview", "Match found, in review"
        BLOCKED = "Blocked", "Blocked"
        NOT_BLOCKED = "NotBlocked", "Not blocked (judged not NCII)"
        REMOVED = "Removed", "Removed"
        NONE = "None", "Tagged"
        QUALITY_UNKNOWN = "QualityUnknown", "Quality unknown"
        WITHDRAWN = "Withdrawn", "Withdrawal applied"
        DELETED = "Deleted", "Deleted"

    MATCHED = (Value.PENDING_REVIEW, Value.BLOCKED, Value.NOT_BLOCKED, Value.REMOVED)
    REVIEWED = (Value.BLOCKED, Value.NOT_BLOCKED, Value.REMOVED)
    ACTIONED = (Value.BLOCKED, Value.REMOVED)
    ACKNOWLEDGED = (Value.WITHDRAWN, Value.DELETED)

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="outcomes")
    # Kept when retention removes the bank row: statistics count outcomes.
    bank_hash = models.ForeignKey("hashing.BankHash", null=True, on_delete=models.SET_NULL, related_name="outcomes")
    signal_type = models.CharField(max_length=10)
    value = models.CharField(max_length=20, choices=Value.choices)
    tags = models.JSONField(default=list, blank=True)
    acted_at = models.DateTimeField()  # when the partner acted, by its own clock, but never before it had the hash
    # The partner's own time when it lay before the hash first reached it (partners.outcomes.earliest_action), and
    # acted_at was clamped to that: a report dated before its hash would flatter the time to action.
    reported_acted_at = models.DateTimeField(null=True, blank=True)
    received = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=10, default="native")  # native or stopncii

    class Meta:
        ordering = ["received", "id"]
        constraints = [
            # The same report sent twice is one report.
            models.UniqueConstraint(fields=["partner", "bank_hash", "value", "acted_at"], name="outcome_once"),
        ]
        indexes = [models.Index(fields=["bank_hash", "partner", "received"])]

    def __str__(self):
        return f"{self.partner}: {self.value}"


class SandboxReport(models.Model):
    """Feedback a partner sent on a sandbox hash: its test of matching and reporting, which a partner manager
    reads before ticking "sandbox test passed". Never an Outcome: sandbox hashes are not in the bank."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="sandbox_reports")
    signal_type = models.CharField(max_length=10)
    value = models.CharField(max_length=64)
    outcome = models.CharField(max_length=20, choices=Outcome.Value.choices)
    tags = models.JSONField(default=list, blank=True)
    received = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=10, default="native")

    class Meta:
        ordering = ["received", "id"]

    def __str__(self):
        return f"sandbox {self.outcome} from {self.partner_id}"


class FeedPosition(models.Model):
    """Where a partner's latest fetch or delivery left it, per route (a feed it fetches, or push): the partner
    page's "last fetch" and "records behind", and how far it was told of withdrawals."""

    class Route(models.TextChoices):  # how hashes reach a partner
        NATIVE = "native", "Native feed"
        STOPNCII = "stopncii", "StopNCII FetchHashes"
        SANDBOX = "sandbox", "Sandbox"
        PUSH = "push", "Push (delivered)"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="feed_positions")
    route = models.CharField(max_length=10, choices=Route.choices)
    fetched_at = models.DateTimeField(default=timezone.now)
    txid = models.BigIntegerField(null=True, blank=True)  # native: the cursor handed out last; push: delivered
    change_id = models.BigIntegerField(null=True, blank=True)
    checkpoint = models.DateTimeField(null=True, blank=True)  # StopNCII: the nextSetTimestamp handed out last
    # How far it has read its own web addresses (partners.addresses), which retention waits on once they are
    # withdrawn. Native: the address position in the cursor handed out last; push: delivered, in the feed's
    # (txid, id) order. StopNCII: the end of the latest sync that carried them, on its last page (from wherever it
    # started: stopncii.own_addresses).
    address_txid = models.BigIntegerField(null=True, blank=True)
    address_row = models.BigIntegerField(null=True, blank=True)
    address_checkpoint = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "route"], name="feedposition_once")]

    def __str__(self):
        return f"{self.partner_id} {self.route}"


class Webhook(models.Model):
    """A push partner's endpoint, and where its push stands.

    The bank's change log (hashing.BankChange) is the outbox: every change is written in the transaction that
    makes it. `cursor` is how far this partner's changes have been cut into Deliveries; a Delivery is then sent
    until the partner answers 2xx, in order, one at a time per partner (a later batch must never overtake an
    earlier one: records are states, and an old state must not land last).
    """

    partner = models.OneToOneField(Partner, on_delete=models.CASCADE, related_name="webhook")
    url = models.URLField(max_length=500)
    secret = models.TextField()  # the signing secret, encrypted (partners.push.seal)
    previous_secret = models.TextField(blank=True)  # after a rotation, also signed with until previous_until
    previous_until = models.DateTimeField(null=True, blank=True)
    paused = models.BooleanField(default=False)
    # Some partners apply a withdrawal as they accept the call: a 2xx to a batch that withdraws counts as their
    # acknowledgement.
    ack_on_2xx = models.BooleanField(default=False)
    cursor_txid = models.BigIntegerField(default=0)
    cursor_change_id = models.BigIntegerField(default=0)
    # How far batches were ever sent, delivered or not: after undelivered batches are dropped (partners.push.
    # drop_undelivered) the cursor goes back, and what the partner may have seen in a batch it answered with an
    # error is still counted as had, so its withdrawals are told.
    sent_txid = models.BigIntegerField(default=0)
    sent_change_id = models.BigIntegerField(default=0)
    # The partner's own web addresses (partners.addresses) cut into deliveries up to here, in their feed order.
    address_txid = models.BigIntegerField(default=0)
    address_row = models.BigIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)  # a worker is sending for this partner until then
    lease_owner = models.CharField(max_length=16, blank=True)  # that round's token
    degraded_at = models.DateTimeField(null=True, blank=True)  # retries ran out; managers were alerted
    created = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"webhook of {self.partner_id}"


class DeliveryQuerySet(models.QuerySet):
    def undelivered(self):
        """Batches still to deliver, waiting or parked (test events are not queued)."""
        return self.filter(state__in=[Delivery.State.PENDING, Delivery.State.PARKED])


class Delivery(models.Model):
    """One batch for one partner's webhook: its body is fixed when cut, so every retry sends the same message
    with the same webhook-id (the partner drops repeats by it)."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be delivered"
        DELIVERED = "delivered", "Delivered"
        PARKED = "parked", "Parked (retries ran out)"
        TEST = "test", "Test event (sent once, never queued)"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=40, unique=True)
    event = models.CharField(max_length=40, default="hashes.changed")
    body = models.TextField()  # the JSON sent, byte for byte
    records = models.PositiveIntegerField(default=0)
    withdrawals = models.PositiveIntegerField(default=0)
    # The change-log position the batch ends at (none for a test event, or a batch of web addresses).
    txid = models.BigIntegerField(null=True, blank=True)
    change_id = models.BigIntegerField(null=True, blank=True)
    # A batch of the partner's own web addresses (urls.changed): where in their feed order it ends.
    address_txid = models.BigIntegerField(null=True, blank=True)
    address_row = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(default=timezone.now)
    created = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["partner", "state", "id"])]

    def __str__(self):
        return f"delivery {self.message_id}"


class DeliveryAttempt(models.Model):
    """One POST of a Delivery: the delivery log on the partner page."""

    EXCERPT = 300  # characters of the partner's answer kept

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts_made")
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    milliseconds = models.PositiveIntegerField(default=0)
    excerpt = models.CharField(max_length=EXCERPT, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"attempt {self.pk} of {self.delivery_id}"

    @property
    def succeeded(self):
        return self.status_code is not None and 200 <= self.status_code < 300


class HandoverQuerySet(models.QuerySet):
    """Which handovers covered a change of the bank's log (values, or OuterRefs for a subquery per change)."""

    def covering_position(self, txid, change_id):
        """Native pages and pushed batches: each covers every change up to its end in (transaction, change)
        order."""
        return self.exclude(route=FeedPosition.Route.STOPNCII).filter(
            models.Q(txid__gt=txid) | models.Q(txid=txid, change_id__gte=change_id))

    def covering_time(self, at, change_id):
        """StopNCII pages: each covers, in (time, change) order, from its sync's start up to its last change. Only
        for changes that feed carries (hashing.signal_types.carried_by_stopncii)."""
        return self.filter(route=FeedPosition.Route.STOPNCII).filter(
            models.Q(change_from=None) | models.Q(change_from__lte=at)).filter(
            models.Q(change_at__gt=at) | models.Q(change_at=at, change_id__gte=change_id))


class Handover(models.Model):
    """A feed page or pushed batch reaching a partner: when, and how far into the bank's change log. Statistics
    take a hash's "shared with this partner" time from the first handover that covered the change that made it
    shareable (docs/statistics.md); one row per page, not per hash."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="handovers")
    route = models.CharField(max_length=10, choices=FeedPosition.Route.choices)
    at = models.DateTimeField(default=timezone.now)
    # Native and push: the page's end in (transaction, change) order. StopNCII: its last change's (time, id),
    # and the time the sync started from (it carried only changes from then on).
    txid = models.BigIntegerField(null=True, blank=True)
    change_from = models.DateTimeField(null=True, blank=True)
    change_at = models.DateTimeField(null=True, blank=True)
    change_id = models.BigIntegerField()

    objects = HandoverQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["partner", "route", "txid", "change_id"]),
                   models.Index(fields=["partner", "route", "change_at", "change_id"])]

    def __str__(self):
        return f"handover to {self.partner_id} at {self.at}"


class SharedAddress(models.Model):
    """A web address on a partner's own site, sent to that partner alone through its feed (docs/caller.md,
    "Partners' own addresses"; design rule 11: never to another partner). Case data, not a bank hash: no other
    partner's feed, push or reports ever reads it. `address_id` is the takedowns address it stands for (takedowns
    lies above partners, so no foreign key); the partner's reports on it go back there as outcomes
    (partners.addresses.address_reported). The case's withdrawal withdraws it (partners.addresses.withdraw):
    the row moves forward in the feed, told as withdrawn. Retention clears the address with the case's data."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="shared_addresses")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    address_id = models.BigIntegerField()
    url = models.CharField(max_length=2000)
    # Feed order as the bank's changes (hashing.models.BankChange): the writer's transaction, then the id, read
    # only below the oldest running transaction, so a row committed late never slips behind a cursor. The
    # withdrawal rewrites both (the row's last change); sent_txid and sent_at keep where and when it was sent,
    # so that only a reader that could have had the address is told of its withdrawal.
    txid = models.BigIntegerField(db_default=TransactionId())
    at = models.DateTimeField(db_default=ClockTime())
    sent_txid = models.BigIntegerField(db_default=TransactionId())
    sent_at = models.DateTimeField(db_default=ClockTime())
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "address_id"], name="sharedaddress_once")]
        indexes = [models.Index(fields=["partner", "txid", "id"]), models.Index(fields=["partner", "url"])]

    def __str__(self):
        return f"address {self.address_id} for {self.partner_id}"
