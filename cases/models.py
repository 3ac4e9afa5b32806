"""Contacts, cases, one-time hashing links and items: the call, in the helpline's words (design.md).

Caller data is kept to what the work needs: no names, no contact details, no file names, no file contents.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from hashing.models import BankHash
from hashing.signal_types import is_low_quality

# Crockford's base32: no I, L, O or U, so a reference or code read over the phone cannot be misheard as another.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MISREAD = str.maketrans({"O": "0", "I": "1", "L": "1"})


def random_code(length):
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalise_code(text):
    """What a person typed (any case, spaces or dashes, O for 0) as stored: upper case, no separators."""
    return "".join(str(text or "").upper().translate(MISREAD).split()).replace("-", "")


def grouped(code, size=4):
    return "-".join(code[i:i + size] for i in range(0, len(code), size))


# A code read out over the phone: letters in the NATO alphabet, digits as words (no two sound alike).
SPOKEN = {
    "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four",
    "5": "five", "6": "six", "7": "seven", "8": "eight", "9": "nine",
    **{word[0]: word for word in ["Alfa", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India",
                                  "Juliett", "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo",
                                  "Sierra", "Tango", "Uniform", "Victor", "Whiskey", "X-ray", "Yankee", "Zulu"]},
}


def spoken(code):
    """A grouped code as it is read out: [["Kilo", "seven", ...], ["Mike", ...]] for "K7QD3-MXP2A"."""
    return [[SPOKEN[character] for character in group] for group in code.split("-")]


class AbuseType(models.TextChoices):
    SHARED = "shared", _("Images were shared")
    THREATENED = "threatened", _("Threatened to share")
    SEXTORTION = "sextortion", _("Sextortion (money or more images demanded)")
    SYNTHETIC = "synthetic", _("Deepfake or synthetic images")
    VOYEURISM = "voyeurism", _("Voyeurism (taken without knowing)")
    OTHER = "other", _("Other")


class Contact(models.Model):
    """One conversation with the helpline, recorded even when no case follows (anonymously if need be)."""

    class Channel(models.TextChoices):
        PHONE = "phone", "Phone"
        CHAT = "chat", "Chat"
        EMAIL = "email", "Email"
        IN_PERSON = "in_person", "In person"
        SELF_SERVICE = "self_service", "Self-service"

    class Caller(models.TextChoices):
        SUBJECT = "subject", "The person in the images"
        ON_BEHALF = "on_behalf", "Someone on their behalf"

    class Outcome(models.TextChoices):
        IN_PROGRESS = "in_progress", "Intake in progress"
        CASE_OPENED = "case_opened", "Case opened"
        UNDER_18 = "under_18", "Under 18 in the content: referred"
        NOT_ELIGIBLE = "not_eligible", "Not eligible: advice given"

    channel = models.CharField(max_length=20, choices=Channel.choices)
    language = models.CharField(max_length=10, default="en-gb")
    caller = models.CharField(max_length=10, choices=Caller.choices, default=Caller.SUBJECT)
    # The eligibility script, in its order; None until asked.
    in_content = models.BooleanField(null=True)
    adult_in_content = models.BooleanField(null=True)
    intimate = models.BooleanField(null=True)
    has_files = models.BooleanField(null=True)
    abuse_type = models.CharField(max_length=20, choices=AbuseType.choices, blank=True)
    # Risk and safeguarding flags; each prompts its referral (cases.actions.RISK_REFERRALS).
    immediate_danger = models.BooleanField(default=False)
    self_harm_risk = models.BooleanField(default=False)
    abuser_contact = models.BooleanField(default=False)
    child_involved = models.BooleanField(default=False)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.IN_PROGRESS)
    answers_cleared = models.BooleanField(default=False)  # past retention: answers and flags removed
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="contacts_taken")
    case = models.ForeignKey("Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts")
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"contact {self.pk} ({self.get_channel_display()})"

    @property
    def is_under_18(self):
        return self.adult_in_content is False

    def ineligible_because(self):
        """Why no case can be opened from this contact, or "" when it can (every answer yes)."""
        if self.in_content is False:
            return "The person in the images is not the caller or the person they call for."
        if self.adult_in_content is False:
            return "The person was under 18 in the content."
        if self.intimate is False:
            return "The content is not intimate."
        if self.has_files is False:
            return "The files are not on a device the caller can use."
        if None in (self.in_content, self.adult_in_content, self.intimate, self.has_files):
            return "The eligibility questions are not all answered."
        return ""


class Case(models.Model):
    """One person's request to have their images blocked. Its reference and PIN are the caller's only keys."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        HASHES_SUBMITTED = "hashes_submitted", "Hashes submitted"
        ACTIVE = "active", "Active"
        WITHDRAWN = "withdrawn", "Withdrawn"
        CLOSED = "closed", "Closed"

    # A case in any of these holds its bank hashes active (a closed case still wants its images blocked).
    HOLDING = (Status.OPEN, Status.HASHES_SUBMITTED, Status.ACTIVE, Status.CLOSED)
    REFERENCE_LENGTH = 12  # 60 random bits, shown as XXXX-XXXX-XXXX
    # Status moves a person makes (cases.actions.move_case), from the statuses each starts from. Submitting
    # hashes (open → hashes submitted) is the caller's, by their submission.
    MOVES = {
        "activate": (Status.HASHES_SUBMITTED,),
        "close": (Status.OPEN, Status.HASHES_SUBMITTED, Status.ACTIVE),
        "reopen": (Status.CLOSED,),
        "withdraw": (Status.OPEN, Status.HASHES_SUBMITTED, Status.ACTIVE, Status.CLOSED),
    }
    # Moves that end the case's work: at the end of the case page, behind a confirmation (cases.views.case_move).
    ENDING_MOVES = ("close", "withdraw")
    MOVE_REASONS = {
        "close": [("resolved", "The caller's request is done"), ("no_contact", "The caller stopped responding"),
                  ("not_eligible", "Found not eligible"), ("duplicate", "Duplicate of another case"),
                  ("other", "Other (see note)")],
        "reopen": [("caller_returned", "The caller came back"), ("closed_in_error", "Closed by mistake"),
                   ("other", "Other (see note)")],
        "withdraw": [("caller_asked", "The caller asked, on a call or chat"),
                     ("safeguarding", "Safeguarding decision"), ("other", "Other (see note)")],
    }

    reference = models.CharField(max_length=REFERENCE_LENGTH, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    abuse_type = models.CharField(max_length=20, choices=AbuseType.choices, blank=True)
    language = models.CharField(max_length=10, default="en-gb")
    # Who opened it (their "own" case) and who is assigned now; supervisors assign and reassign.
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="cases_opened")
    caseworker = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="cases")
    # The PIN as a password digest (settings.PASSWORD_HASHERS); set on the caller's device only, at submission.
    pin_digest = models.CharField(max_length=200, blank=True)
    # The link whose submission set the PIN: only a retry of that submission may answer with a new one.
    pin_link = models.ForeignKey("HashingLink", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    pin_failures = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    consent_version = models.CharField(max_length=20, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # When it was withdrawn or closed (cleared on reopening): retention counts from here (ncii_portal.retention).
    ended_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["-created", "-id"]),  # the case list's order
            models.Index(fields=["status", "-created", "-id"]),
            models.Index(fields=["caseworker", "-created", "-id"]),
        ]

    def __str__(self):
        return self.display_reference

    @property
    def display_reference(self):
        return grouped(self.reference)

    @property
    def is_withdrawn(self):
        return self.status == self.Status.WITHDRAWN

    def is_locked(self, now=None):
        return self.locked_until is not None and self.locked_until > (now or timezone.now())

    def item_counts(self):
        """{kind: count} of this case's items, with every kind present."""
        counts = dict.fromkeys(Item.Kind.values, 0)
        for row in self.items.values("kind").annotate(n=models.Count("id")):
            counts[row["kind"]] = row["n"]
        return counts


class HashingLinkQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(used_at=None, revoked_at=None, expires_at__gt=now)


def digest_code(code):
    # Codes carry 50 random bits and live an hour: a fast digest is enough, and lets us look them up.
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


class HashingLink(models.Model):
    """A one-time link for the caller's own device: a short URL, the same code read aloud, and a QR code.

    Only a digest of the code is stored. It expires, is used up by the caller's use of it, and can be revoked.
    Its purpose: to send fingerprints into the case, or to set a new PIN for it when the caller lost theirs or
    checking is paused (the new PIN is made and shown on the caller's device only).
    """

    CODE_LENGTH = 10  # 50 random bits, shown as XXXXX-XXXXX

    class Purpose(models.TextChoices):
        HASHING = "hashing", "Hashing"
        NEW_PIN = "new_pin", "New PIN"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links")
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.HASHING)
    # The language of the caller's pages, picked by the caseworker on the call (blank: the caller's browser's).
    language = models.CharField(max_length=10, blank=True)
    code_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    # The caller's device names its submission (or its try at a new PIN); a retry of the same one is answered
    # again, never doubled.
    submission_id = models.CharField(max_length=64, blank=True)
    submission_digest = models.CharField(max_length=64, blank=True)  # of the submitted MD5s: a retry must match
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    objects = HashingLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"link {self.pk} for {self.case}"

    @classmethod
    def new_code(cls):
        return random_code(cls.CODE_LENGTH)

    @property
    def state(self):
        if self.revoked_at:
            return "revoked"
        if self.used_at:
            return "used"
        if self.expires_at <= timezone.now():
            return "expired"
        return "opened" if self.opened_at else "waiting"


class ItemQuerySet(models.QuerySet):
    def with_sharing(self):
        """Each item's `shared`: any of its signals is shareable (BankHash.shareable_q, the one rule)."""
        return self.annotate(shared=models.Exists(BankHash.objects.shareable().filter(items=models.OuterRef("pk"))))


class Item(models.Model):
    """One file the caller hashed on their device. An image carries PDQ (+ quality), pHash and MD5; a video MD5
    and, when its frames could be decoded, vPDQ; an other file MD5 only. The signals themselves live in the bank,
    one row per distinct value."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        VIDEO = "video", _("Video")
        FILE = "file", _("Other file")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    md5 = models.CharField(max_length=32)
    pdq_quality = models.PositiveSmallIntegerField(null=True, blank=True)
    # An image this browser could not decode faithfully: it came as MD5 only.
    unreadable = models.BooleanField(default=False)
    # A video's vPDQ: how many frames it holds (None: MD5 only, its frames could not be decoded on the device).
    # Staff screens count these; the frames themselves live in the bank, never on a page.
    frames = models.PositiveIntegerField(null=True, blank=True)
    bank_hashes = models.ManyToManyField(BankHash, related_name="items")
    created = models.DateTimeField(default=timezone.now)

    objects = ItemQuerySet.as_manager()

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            # The same file sent twice (a retry, or chosen twice) is one item.
            models.UniqueConstraint(fields=["case", "md5"], name="item_unique_file_per_case"),
        ]

    def __str__(self):
        return f"{self.kind} item {self.pk}"

    @property
    def is_low_quality(self):
        return self.kind == self.Kind.IMAGE and not self.unreadable and is_low_quality(self.pdq_quality)


class Referral(models.Model):
    """Where the helpline pointed the caller: on the contact, and on the case when there is one."""

    class To(models.TextChoices):
        EMERGENCY = "emergency", "Emergency services (999 / 112)"
        TAKE_IT_DOWN = "take_it_down", "Take It Down (NCMEC) / CyberTipline"
        CHILDLINE_IWF = "childline_iwf", "Childline / IWF Report Remove"
        CRISIS_LINE = "crisis_line", "Samaritans or a crisis line"
        DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse support"
        POLICE = "police", "Police"
        COUNSELLING = "counselling", "Cyber Civil Rights Initiative or local counselling"
        LEGAL = "legal", "Legal advice"
        PLATFORM = "platform", "Platform reporting"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        SUGGESTED = "suggested", "Suggested"
        MADE = "made", "Made"
        DECLINED = "declined", "Declined"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="referrals")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals")
    to = models.CharField(max_length=20, choices=To.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUGGESTED)
    outcome = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]
        constraints = [models.UniqueConstraint(fields=["contact", "to"], name="referral_once_per_contact")]

    def __str__(self):
        return self.get_to_display()


class EvidenceItem(models.Model):
    """One line of the evidence checklist template. Administrators edit it; a case copies the active lines when
    it opens, so a change applies to new cases and never rewrites old answers."""

    label = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.label


class CaseEvidence(models.Model):
    """A case's answer to one checklist line. The portal records the checklist, never the evidence itself."""

    class State(models.TextChoices):
        NOT_DONE = "not_done", "Not done"
        DONE = "done", "Done"
        NOT_APPLICABLE = "not_applicable", "Not applicable"

    NOTE_LENGTH = 200

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    template = models.ForeignKey(EvidenceItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    label = models.CharField(max_length=200)  # as the template said when the case opened
    position = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=20, choices=State.choices, default=State.NOT_DONE)
    note = models.CharField(max_length=NOTE_LENGTH, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.label


class CaseNote(models.Model):
    """A caseworker's note on a case: free text, so it lives here (purgeable) and never in the audit log."""

    MAX_LENGTH = 4000

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=MAX_LENGTH)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self):
        return f"note {self.pk} on {self.case}"


class CaseEvent(models.Model):
    """One step in a case's timeline, written by the action that takes the step, in the same transaction.

    Why a table of its own rather than a timeline assembled from the records: several steps leave no record
    of their own (a status move, an assignment, a checklist answer changed twice, a link opened), the partner
    feedback to come arrives in volume, and one indexed read in write order gives the case page a fixed number
    of queries. It cannot drift, because only cases.actions writes it, inside each action's transaction. It
    holds no free text: a note's event points at the note.
    """

    class Kind(models.TextChoices):
        CONTACT = "contact", "Contact recorded"
        OPENED = "opened", "Case opened"
        LINK_SENT = "link_sent", "Link sent"
        LINK_OPENED = "link_opened", "Link opened"
        LINK_CANCELLED = "link_cancelled", "Link cancelled"
        PIN_RESET = "pin_reset", "New PIN set"
        ITEMS_ADDED = "items_added", "Items received"
        STATUS = "status", "Status changed"
        ASSIGNED = "assigned", "Assigned"
        CHECKLIST = "checklist", "Checklist updated"
        REFERRAL = "referral", "Referral"
        NOTE = "note", "Note added"
        WITHDRAWN = "withdrawn", "Withdrawn"
        FEEDBACK = "feedback", "Partner feedback"
        TAKEDOWN = "takedown", "Takedown"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_label = models.CharField(max_length=40, blank=True)  # "caller", "system" when no staff actor
    details = models.JSONField(default=dict, blank=True)
    note = models.ForeignKey(CaseNote, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at", "id"])]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.case})"

    @property
    def who(self):
        return str(self.actor) if self.actor_id else (self.actor_label or "system")

    def summary(self):
        """The step's details in words, for the timeline (no queries: everything is in `details`)."""
        d = self.details
        if self.kind in (self.Kind.LINK_SENT, self.Kind.LINK_OPENED, self.Kind.LINK_CANCELLED):
            return "for a new PIN" if d.get("purpose") == HashingLink.Purpose.NEW_PIN else "for hashing"
        if self.kind == self.Kind.ITEMS_ADDED:
            kinds = d.get("kinds", {})
            parts = [f"{kinds[k]} {label.lower()}{'s' if kinds[k] != 1 else ''}"
                     for k, label in (("image", "image"), ("video", "video"), ("file", "other file")) if kinds.get(k)]
            weak = f" ({d['low_quality']} weak PDQ, not shared)" if d.get("low_quality") else ""
            held = f" ({d['held']} hashes held for review: self-service flood)" if d.get("held") else ""
            return ", ".join(parts) + weak + held
        if self.kind == self.Kind.STATUS:
            text = f"now {Case.Status(d['to']).label.lower()}"
            return text + (f", reason: {d['reason'].replace('_', ' ')}" if d.get("reason") else "")
        if self.kind == self.Kind.ASSIGNED:
            return f"to {d.get('to_name') or 'nobody'}"
        if self.kind == self.Kind.CHECKLIST:
            return f"{d.get('label', '')}: {CaseEvidence.State(d['state']).label.lower()}"
        if self.kind == self.Kind.REFERRAL:
            return f"{Referral.To(d['to']).label}: {Referral.Status(d['status']).label.lower()}"
        if self.kind == self.Kind.CONTACT:
            return Contact.Channel(d["channel"]).label
        if self.kind == self.Kind.FEEDBACK:
            return f"{d.get('partner', '')}: {d.get('value', '')} ({d.get('signal_type', '')})"
        if self.kind == self.Kind.TAKEDOWN:
            return takedown_summary(d)
        if self.kind == self.Kind.WITHDRAWN and d.get("reason"):
            return f"reason: {d['reason'].replace('_', ' ')}"
        return ""


def takedown_summary(d):
    """A takedown step in words (cases.actions.note_takedown_step): the request's number, the site, counts."""
    count = d.get("addresses", 0)
    addresses = f"{count} address{'es' if count != 1 else ''}"
    if d.get("step") == "outcome":
        dated = f" (dated {date_format(timezone.localtime(parse_datetime(d['dated'])), 'DATETIME_FORMAT')})" if d.get(
            "dated") else ""
        reported = f", reported by {d['partner']}" if d.get("partner") else ""
        return f"{addresses} recorded as {d.get('outcome', '').lower()}{dated}{reported}"
    what = f"{d.get('what', 'Request')} {d.get('request', '')} to {d.get('site', '')}"
    if d.get("step") == "failed":
        return f"{what} could not be sent by mail ({addresses})"
    return f"{what} sent {d.get('method', '')} ({addresses})".replace("  ", " ")


class Notification(models.Model):
    """Something a staff member must see in the portal (e.g. a caller withdrew their case)."""

    class Kind(models.TextChoices):
        WITHDRAWN = "withdrawn", "The case was withdrawn"
        ASSIGNED = "assigned", "A case was assigned to you"
        OUTCOME = "outcome", "A partner reported on the case's hashes"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.case}"


def link_expiry(now=None):
    return (now or timezone.now()) + timedelta(minutes=settings.CALLER_LINK_MINUTES)
