"""Takedowns beyond the partner network, in the helpline's words (design.md): the sites where images appear,
the web addresses of a case's images, the takedown requests the helpline sends, and each address's outcome.

Web addresses point straight at a caller's images (design rule 11): they appear on staff case screens only,
never in the audit log or the logs, never in statistics, and retention clears them with the case's data
(ncii_portal.retention); what is left of a purged address (its site, outcome and times) is counts.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cases.models import Case
from partners.models import Partner, SharedAddress


class Site(models.Model):
    """A website where images may appear (a partner or not), and how to ask it for a removal. One per
    registrable domain; an address on a domain not in the directory yet files it here, to be completed."""

    class Kind(models.TextChoices):
        PARTNER = "partner", "Partner platform"
        ADULT = "adult", "Adult site"
        FORUM = "forum", "Forum"
        FILE_HOST = "file_host", "File host"
        SEARCH_ENGINE = "search_engine", "Search engine"
        HOSTING = "hosting", "Hosting provider"
        SOCIAL = "social", "Social network"
        OTHER = "other", "Other (not described yet)"

    NOTES_LENGTH = 2000

    domain = models.CharField(max_length=253, unique=True)  # registrable domain (takedowns.normalise)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    abuse_email = models.EmailField("abuse mail address", blank=True)
    web_form_url = models.URLField("removal web form", max_length=500, blank=True)
    language = models.CharField(max_length=10, default="en", help_text="The language requests should be in.")
    notes = models.TextField(max_length=NOTES_LENGTH, blank=True)
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.SET_NULL, related_name="sites")
    # Who hosts the site: where an unanswered request is escalated.
    hosting_provider = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="hosted_sites")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["kind", "name"])]

    def __str__(self):
        return self.name

    @property
    def how_to_ask(self):
        return [way for way, present in (("mail", self.abuse_email), ("web_form", self.web_form_url)) if present]


class AddressQuerySet(models.QuerySet):
    def live(self):
        """Addresses not yet cleared by retention."""
        return self.filter(purged_at=None)

    def askable(self):
        """Addresses a request may (still) name: not removed."""
        return self.live().exclude(outcome=Address.Outcome.REMOVED)

    def purge(self, now=None):
        """Clear the web addresses, and the free text that went with them (sites' reasons, caseworkers'
        statements in requests); the rows stay as counts (site, outcome, times). Returns how many."""
        now = now or timezone.now()
        addresses = self.live()
        AddressOutcome.objects.filter(address__in=addresses).exclude(reason="").update(reason="")
        # A partner's feed no longer carries them either (partners.addresses).
        SharedAddress.objects.filter(address_id__in=addresses.values("pk"), purged_at=None).update(url="",
                                                                                                  purged_at=now)
        TakedownRequest.objects.filter(addresses__in=addresses).exclude(statement="").update(statement="")
        return addresses.update(url="", purged_at=now, check_status=None, checked_at=None, suggested_at=None)


class Address(models.Model):
    """A web address where a case's image appears, normalised (takedowns.normalise), filed under its site, with
    its outcome now and when it came to be."""

    class Outcome(models.TextChoices):
        NEW = "new", "Not asked yet"
        ASKED = "asked", "Asked, waiting"
        REMOVED = "removed", "Removed"
        REFUSED = "refused", "Refused"
        NO_ANSWER = "no_answer", "No answer"
        REINSTATED = "reinstated", "Back up (reinstated)"

    # The outcomes a caseworker records (new and asked come from sending requests).
    RECORDED = (Outcome.REMOVED, Outcome.REFUSED, Outcome.NO_ANSWER, Outcome.REINSTATED)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="web_addresses")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="addresses")
    url = models.CharField(max_length=2000)
    added = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.NEW)
    outcome_at = models.DateTimeField(null=True, blank=True)
    # When the first request naming it was sent, and when it was removed (while it is): the statistics' times.
    first_asked_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    # The optional "is it still up?" check (takedowns.checks): the last HTTP status, and when a 404 or 410
    # suggested that it is gone, for the caseworker to confirm.
    check_status = models.PositiveSmallIntegerField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    suggested_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)  # retention cleared the address

    objects = AddressQuerySet.as_manager()

    class Meta:
        ordering = ["added", "id"]
        constraints = [
            # One address once per case (a repeat in a paste, or pasted again, is merged).
            models.UniqueConstraint(fields=["case", "url"], condition=Q(purged_at=None), name="address_once_per_case"),
        ]
        indexes = [
            models.Index(fields=["case", "site"]),
            # The statistics' rollups recount the addresses first asked for on some days (stats.keeping).
            models.Index(fields=["first_asked_at"], include=["site", "outcome", "removed_at"],
                         condition=Q(first_asked_at__isnull=False), name="address_asked_figures"),
            # A site's record counts its addresses not asked for yet.
            models.Index(fields=["site"], condition=Q(first_asked_at=None), name="address_not_asked"),
            models.Index(fields=["checked_at"], condition=Q(outcome__in=["asked", "no_answer", "refused",
                                                                         "reinstated"], purged_at=None),
                         name="address_to_check"),
        ]

    def __str__(self):
        return f"address {self.pk} ({self.site_id})"

    @property
    def time_to_removal(self):
        if self.removed_at and self.first_asked_at:
            return time_to_removal(self.first_asked_at, self.removed_at)
        return None


def time_to_removal(first_asked_at, removed_at):
    """docs/statistics.md: the removal recorded (the caseworker may date it) − the first request; a removal dated
    before its request counts as zero."""
    return max(removed_at - first_asked_at, timedelta(0))


class TakedownRequestQuerySet(models.QuerySet):
    def due_to_send(self, now=None):
        return self.filter(state=TakedownRequest.State.QUEUED, next_attempt_at__lte=now or timezone.now())

    def waiting(self):
        """Sent, with some address still waiting for the site's answer."""
        return self.filter(state=TakedownRequest.State.SENT).filter(Exists(
            Address.objects.filter(requests=OuterRef("pk"), outcome=Address.Outcome.ASKED)))

    def overdue(self, now=None):
        """Waiting past the due date and not followed up yet (a reminder or escalation has its own)."""
        return self.waiting().filter(due_at__lt=now or timezone.now(), followed_up_at=None)

    def for_attention(self, now=None):
        """Overdue requests beat has marked (takedowns.tasks.mark_overdue) for their caseworker's dashboard."""
        return self.overdue(now).exclude(overdue_at=None).order_by("due_at", "id")

    def for_caseworker(self, user):
        return self.filter(Q(case__caseworker=user) | Q(case__caseworker=None, case__opened_by=user))


class TakedownRequest(models.Model):
    """A request the helpline sent a site to remove some web addresses of a case: by mail from a template in the
    helpline's name (sent after commit by Celery, retried on failure), or through the site's web form by a
    caseworker (recorded here). It names addresses, never carries images, and says nothing of the caller beyond
    the caseworker's own statement, if they add one."""

    class Method(models.TextChoices):
        MAIL = "mail", "By mail"
        WEB_FORM = "web_form", "Through the site's web form"
        PARTNER = "partner", "Through the partner's own feed"

    class Basis(models.TextChoices):
        SITE_POLICY = "site_policy", "The site's own policy on intimate images shared without consent"
        UK_ONLINE_SAFETY_ACT = "uk_osa", "UK Online Safety Act 2023 (intimate image abuse)"
        US_TAKE_IT_DOWN = "us_take_it_down", "US TAKE IT DOWN Act (removal within 48 hours)"
        COPYRIGHT = "copyright", "Copyright (the person in the images took them)"

    class Kind(models.TextChoices):
        REQUEST = "request", "Request"
        REMINDER = "reminder", "Reminder"
        ESCALATION = "escalation", "Escalation to the hosting provider"

    class State(models.TextChoices):
        QUEUED = "queued", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    STATEMENT_LENGTH = 1000

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="takedown_requests")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="requests")  # whom it is sent to
    addresses = models.ManyToManyField(Address, related_name="requests")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.REQUEST)
    follows = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="follow_ups")
    method = models.CharField(max_length=10, choices=Method.choices)
    basis = models.CharField(max_length=20, choices=Basis.choices, default=Basis.SITE_POLICY)
    # Said in the mail only when the caseworker writes it (e.g. that the person can confirm who they are).
    statement = models.TextField(max_length=STATEMENT_LENGTH, blank=True)
    to_email = models.EmailField(blank=True)  # the site's abuse address when it was written
    created = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=100, blank=True)  # the failure's kind, never its text
    sent_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)  # beat found it waiting past due
    followed_up_at = models.DateTimeField(null=True, blank=True)  # a reminder or escalation was made

    objects = TakedownRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["case", "-created"]),
            models.Index(fields=["site", "state"]),
            models.Index(fields=["next_attempt_at"], condition=Q(state="queued"), name="takedown_to_send"),
            models.Index(fields=["due_at"], condition=Q(state="sent", followed_up_at=None), name="takedown_due"),
            models.Index(fields=["sent_at"], condition=Q(state="sent"), name="takedown_sent"),
        ]

    def __str__(self):
        return f"takedown request {self.reference}"

    @property
    def reference(self):
        """What the site is told to quote in its answer: the request's own number, never the case's."""
        return f"T-{self.pk:06d}"

    @property
    def is_overdue(self):
        return (self.state == self.State.SENT and self.followed_up_at is None and self.due_at is not None
                and self.due_at < timezone.now())


class AddressOutcome(models.Model):
    """One step in an address's story: asked (by which request), removed, refused (with the site's reason), no
    answer, back up; with its time. The address keeps the latest as its outcome."""

    REASON_LENGTH = 500

    address = models.ForeignKey(Address, on_delete=models.CASCADE, related_name="outcomes")
    request = models.ForeignKey(TakedownRequest, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="outcomes")
    outcome = models.CharField(max_length=20, choices=Address.Outcome.choices)
    reason = models.CharField(max_length=REASON_LENGTH, blank=True)  # the site's, for a refusal
    at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    recorded = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["address", "at"]),
            # The statistics' minute update finds the addresses with a new step (stats.keeping).
            models.Index(fields=["recorded"], name="addressoutcome_recorded"),
        ]

    def __str__(self):
        return f"{self.get_outcome_display()} ({self.address_id})"
