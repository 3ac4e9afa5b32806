"""What happens during a call and on the caller's device: contacts, intake, cases, links, items, PINs, withdrawal.

Staff views, caller views and other apps (partners reporting to a case) call these. Each runs in one transaction with
its audit rows.
"""

import functools
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.actions import record
from cases import flood
from cases.consent import CONSENT_KEYS, CURRENT_VERSIONS
from cases.models import (
    Case,
    CaseEvent,
    CaseEvidence,
    CaseNote,
    Contact,
    EvidenceItem,
    HashingLink,
    Item,
    Notification,
    Referral,
    digest_code,
    link_expiry,
    normalise_code,
    random_code,
)
from core.errors import Refusal
from hashing import actions as bank
from hashing import signal_types
from hashing.models import BankHash
from staff import roles

# Each risk flag prompts its referral; immediate danger also shows the emergency route on the contact page.
RISK_REFERRALS = {
    "immediate_danger": Referral.To.EMERGENCY,
    "self_harm_risk": Referral.To.CRISIS_LINE,
    "abuser_contact": Referral.To.DOMESTIC_ABUSE,
    "child_involved": Referral.To.CHILDLINE_IWF,
}
# Under 18 in the content: NCMEC's Take It Down everywhere, and in the UK Childline / IWF Report Remove.
UNDER_18_REFERRALS = [Referral.To.TAKE_IT_DOWN, Referral.To.CHILDLINE_IWF]

PIN_DIGITS = 8

# Sent inside withdraw_case's transaction, once per case withdrawn (case: the Case, now withdrawn), for what the
# apps above cases hold of it: partners withdraws the case's web addresses it sent partners
# (PartnersConfig.ready), in the same transaction, so the feeds tell them with the withdrawal. cases knows
# nothing of partners, as hashing knows nothing of it through bank_changed.
case_withdrawn = Signal()


@functools.cache
def no_case_digest():
    """Compared against when there is no case, so an unknown reference takes as long as a wrong PIN."""
    return make_password(secrets.token_hex(16))


# --- Contacts and cases ------------------------------------------------------------------------------------


def log_event(case, kind, *, by=None, at=None, note=None, actor_label=None, **details):
    """One step on the case's timeline; called inside the action's own transaction (see CaseEvent)."""
    label = actor_label if actor_label is not None else "" if by else "caller"
    return CaseEvent.objects.create(case=case, kind=kind, actor=by, actor_label=label,
                                    at=at or timezone.now(), note=note, details=details)


def suggest_referral(contact, to, *, by=None):
    referral, _created = Referral.objects.get_or_create(
        contact=contact, to=to, defaults={"case": contact.case, "created_by": by})
    return referral


@transaction.atomic
def take_contact(*, by, channel, language="en-gb", caller=Contact.Caller.SUBJECT, **answers):
    """Record one conversation and its intake answers; refer where the answers or risk flags call for it.

    `answers` are Contact fields: the eligibility questions, abuse type and risk flags. No case is opened here.
    """
    contact = Contact.objects.create(channel=channel, language=language, caller=caller, taken_by=by, **answers)
    for flag, to in RISK_REFERRALS.items():
        if getattr(contact, flag):
            suggest_referral(contact, to, by=by)
    if contact.is_under_18:
        for to in UNDER_18_REFERRALS:
            suggest_referral(contact, to, by=by)
        contact.outcome = Contact.Outcome.UNDER_18
    elif False in (contact.in_content, contact.intimate, contact.has_files):
        contact.outcome = Contact.Outcome.NOT_ELIGIBLE
    contact.save(update_fields=["outcome"])
    record("contact.recorded", actor=by, actor_label="" if by else "caller", target=contact, details={
        "channel": contact.channel, "outcome": contact.outcome,
        "referrals": sorted(contact.referrals.values_list("to", flat=True)),
    })
    return contact


def new_reference():
    while True:
        reference = random_code(Case.REFERENCE_LENGTH)
        if not Case.objects.filter(reference=reference).exists():
            return reference


@transaction.atomic
def open_case(contact, *, by):
    """Open the case an eligible contact asks for; the contact's referrals follow it."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.case_id:
        raise Refusal("This contact already has a case.")
    problem = contact.ineligible_because()
    if problem:
        raise Refusal(f"No case can be opened: {problem}")
    case = Case.objects.create(reference=new_reference(), abuse_type=contact.abuse_type,
                               language=contact.language, opened_by=by, caseworker=by)
    contact.case = case
    contact.outcome = Contact.Outcome.CASE_OPENED
    contact.save(update_fields=["case", "outcome"])
    contact.referrals.update(case=case)
    # The checklist as the template stands today; later template changes leave this case's answers alone.
    CaseEvidence.objects.bulk_create(
        CaseEvidence(case=case, template=item, label=item.label, position=item.position)
        for item in EvidenceItem.objects.filter(active=True))
    log_event(case, CaseEvent.Kind.CONTACT, by=contact.taken_by, at=contact.created, contact=contact.pk,
              channel=contact.channel)
    log_event(case, CaseEvent.Kind.OPENED, by=by)
    for referral in contact.referrals.all():
        log_event(case, CaseEvent.Kind.REFERRAL, by=referral.created_by, to=referral.to, status=referral.status)
    record("case.opened", actor=by, actor_label="" if by else "caller", target=case,
           details={"contact": contact.pk, "channel": contact.channel})
    return case


# --- Locks -------------------------------------------------------------------------------------------------


def lock_case_and_links(case_id, link_ids=None):
    """Lock a case and its links (those in `link_ids`, or all), in the one order every action takes them: the
    case row first, then its links by id; bank hashes, if any, after both (hold_signals). Returns (case, {link id:
    link}), each link's `case` the locked case.

    Why one order: a submission took its link then its case, a withdrawal its case then its links, and the two
    deadlocked. Writing any row that points at a case (an event, an item) also takes a share lock on the case, so
    no action may hold a link's lock before its case's: lock the case here first, even to change only a link.
    """
    case = Case.objects.select_for_update().get(pk=case_id)
    links = case.links.select_for_update().order_by("pk")
    if link_ids is not None:
        links = links.filter(pk__in=link_ids)
    links = {link.pk: link for link in links}
    for link in links.values():
        link.case = case
    return case, links


def note_partner_report(bank_hash, *, partner, value):
    """A partner reported `value` on a bank hash: it goes on the timeline of every case holding the hash, and each
    case's caseworker is told in the portal. (Partners tell cases through this, never write their timeline.)"""
    for case in Case.objects.filter(items__bank_hashes=bank_hash).distinct():
        log_event(case, CaseEvent.Kind.FEEDBACK, by=None, partner=partner, value=value,
                  signal_type=bank_hash.signal_type)
        if case.caseworker_id:
            Notification.objects.create(recipient_id=case.caseworker_id, case=case, kind=Notification.Kind.OUTCOME)


TAKEDOWN_STEPS = ("sent", "failed", "outcome")


def note_takedown_step(case, step, *, by=None, **details):
    """A step of the case's takedown work on its timeline, in the caller's transaction: a request, reminder or
    escalation sent (or failed for good), an outcome recorded for some addresses. (Takedowns tell cases through
    this, never write their timeline.) Details are the request's number, the site's name, kinds and counts: never
    a web address (design rule 11)."""
    if step not in TAKEDOWN_STEPS:
        raise ValueError(f"not a takedown step: {step}")
    log_event(case, CaseEvent.Kind.TAKEDOWN, by=by, actor_label="" if by else "system", step=step, **details)


def lock_cases_holding(bank_hashes):
    """Lock every case holding any of these bank hashes, by id, for an action that then writes rows pointing at
    the hashes and at those cases (a partner's feedback: outcomes, timeline events): the one order above, cases
    before hashes, so it queues behind a withdrawal of one of them instead of deadlocking with it."""
    holding = Item.objects.filter(bank_hashes__in=bank_hashes).values("case_id")
    return list(Case.objects.filter(pk__in=holding).order_by("pk").select_for_update())


# --- The one-time hashing link ------------------------------------------------------------------------------


@transaction.atomic
def issue_link(case, *, by, purpose=HashingLink.Purpose.HASHING, caller_verified=False, language=""):
    """A new link for the caller's device. Returns (link, code): the code exists only in this response.
    `language`: the caller's pages open in it (one this helpline offers; blank: the browser's).

    A new-PIN link replaces a PIN the caller lost (reset_pin), so only a person who has checked, on a call, that
    they are speaking with the person the case is for may send one (`caller_verified`); never self-service.
    """
    if purpose not in HashingLink.Purpose.values:
        raise Refusal("Unknown kind of link.")
    if language and language not in settings.CALLER_LANGUAGES:
        raise Refusal("This helpline does not offer that language.")
    case = Case.objects.select_for_update().get(pk=case.pk)  # as it is now: a withdrawal or a first PIN may be new
    if case.is_withdrawn:
        raise Refusal("This case was withdrawn: no new link can be sent.", status=409)
    if purpose == HashingLink.Purpose.NEW_PIN:
        if by is None or not caller_verified:
            raise Refusal("First check on the call that you are speaking with the person this case is for, and "
                          "say so, before sending a new-PIN link.")
        if not case.pin_digest:
            raise Refusal("This case has no PIN yet: the caller gets one when they first send fingerprints.", 409)
    code = HashingLink.new_code()
    link = HashingLink.objects.create(case=case, purpose=purpose, code_digest=digest_code(code), created_by=by,
                                      expires_at=link_expiry(), language=language)
    record("link.issued", actor=by, actor_label="" if by else "caller", target=case,
           details={"link": link.pk, "minutes": settings.CALLER_LINK_MINUTES, "purpose": purpose})
    log_event(case, CaseEvent.Kind.LINK_SENT, by=by, link=link.pk, purpose=purpose)
    return link, code


@transaction.atomic
def revoke_link(link, *, by):
    _case, links = lock_case_and_links(link.case_id, [link.pk])
    link = links[link.pk]
    if link.revoked_at or link.used_at:
        return link
    link.revoked_at, link.revoked_by = timezone.now(), by
    link.save(update_fields=["revoked_at", "revoked_by"])
    record("link.revoked", actor=by, target=link.case, details={"link": link.pk})
    log_event(link.case, CaseEvent.Kind.LINK_CANCELLED, by=by, link=link.pk, purpose=link.purpose)
    return link


def link_refusal(link):
    """Why this link cannot be used now, in the caller's words, or None."""
    if link.used_at and not link.revoked_at and not link.case.is_withdrawn:
        if link.purpose == HashingLink.Purpose.NEW_PIN:
            return _("This link has already been used. If you did not see your new PIN, call the helpline for a "
                     "new link.")
        return _("This link has already been used. To add more files, ask the helpline for a new link. "
                 "To see your case, use its reference and PIN.")
    return link_refusal_ignoring_use(link)


def link_refusal_ignoring_use(link):
    if link.revoked_at or link.case.is_withdrawn:
        return _("This link was cancelled. If you still need it, ask the helpline for a new one.")
    if link.expires_at <= timezone.now():
        return _("This link has expired. Ask the helpline for a new one.")
    return None


def find_link(code, *, retry_of=None, purpose=None):
    """The usable link for a code (of that purpose, if given), or Refusal (404 unknown, 410 revoked, used or
    expired). Not locked: to change it, lock it with its case (lock_case_and_links) and check it again
    (check_link).

    `retry_of`: (submission id, items digest) of a submission; a link used up by that very submission (same id,
    same items) still answers until it expires, so a retry after a lost answer succeeds and adds nothing.
    """
    links = HashingLink.objects.select_related("case").filter(code_digest=digest_code(code))
    link = (links.filter(purpose=purpose) if purpose else links).first()
    if link is None:
        raise Refusal(_("We could not find this link. Check the code, or ask the helpline for a new link."),
                          status=404)
    return check_link(link, retry_of=retry_of)


def check_link(link, *, retry_of=None):
    """The link if it may be used now (see find_link), or Refusal (410)."""
    if retry_of and link.used_at and (link.submission_id, link.submission_digest) == retry_of:
        refusal = link_refusal_ignoring_use(link)
        if refusal is None:
            return link
        raise Refusal(refusal, status=410)
    refusal = link_refusal(link)
    if refusal:
        raise Refusal(refusal, status=410)
    return link


def note_link_opened(link):
    if link.opened_at is None:
        updated = HashingLink.objects.filter(pk=link.pk, opened_at=None).update(opened_at=timezone.now())
        if updated:
            with transaction.atomic():
                record("link.opened", actor_label="caller", target=link.case, details={"link": link.pk})
                log_event(link.case, CaseEvent.Kind.LINK_OPENED, link=link.pk, purpose=link.purpose)


# --- Items from the caller's device ------------------------------------------------------------------------


def clean_consent(consent):
    """The consent the caller confirmed, in the wording of one current version (one per language); returns it."""
    if not isinstance(consent, dict) or consent.get("version") not in CURRENT_VERSIONS:
        raise Refusal(_("The consent text has changed. Please reload the page and confirm it again."))
    confirmed = consent.get("confirmed")
    if (not isinstance(confirmed, list) or not all(isinstance(key, str) for key in confirmed)
            or set(CONSENT_KEYS) - set(confirmed)):
        raise Refusal(_("Please confirm each statement before sending."))
    return consent["version"]


def clean_item(number, raw):
    """One submitted item as {kind, md5, pdq, pdq_quality, phash, unreadable, vpdq}; Refusal says what is wrong.
    A video's vpdq (python-threatexchange's VPDQSignal text) is optional: null when its frames could not be
    decoded on the device, which then sends its MD5 only."""

    def problem(text):
        return Refusal(_("File %(number)s: %(problem)s") % {"number": number, "problem": text})

    if not isinstance(raw, dict):
        raise problem(_("expected an object with kind and hashes."))
    unknown = set(raw) - {"kind", "md5", "pdq", "pdq_quality", "phash", "unreadable", "vpdq"}
    if unknown:
        # Anything else (a name, a size, bytes) has no business here.
        raise problem(_("unexpected fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    kind = raw.get("kind")
    if kind not in Item.Kind.values:
        raise problem(_("kind must be image, video or file."))
    try:
        item = {"kind": kind, "md5": signal_types.MD5.normalise(raw.get("md5")), "pdq": None, "pdq_quality": None,
                "phash": None, "unreadable": raw.get("unreadable") is True, "vpdq": None, "frames": None}
        image_hashes = [raw.get(field) for field in ("pdq", "pdq_quality", "phash")]
        if kind == Item.Kind.IMAGE and not item["unreadable"]:
            item["pdq"] = signal_types.PDQ.normalise(raw.get("pdq"))
            item["pdq_quality"] = signal_types.check_quality(raw.get("pdq_quality"))
            item["phash"] = signal_types.PHASH.normalise(raw.get("phash"))
            signal_types.check_image(item["pdq"], item["pdq_quality"], item["phash"])
        elif any(value is not None for value in image_hashes):
            raise problem(_("only a readable image carries PDQ and pHash."))
        if raw.get("vpdq") is not None:
            if kind != Item.Kind.VIDEO:
                raise problem(_("only a video carries vPDQ."))
            frames = signal_types.vpdq_frames_of(raw["vpdq"])
            signal_types.check_vpdq(frames)
            item["vpdq"], item["frames"] = signal_types.vpdq_signal(frames), len(frames)
    except signal_types.InvalidSignal as exc:
        raise problem(str(exc))
    return item


def clean_items(raw_items):
    if not isinstance(raw_items, list) or not raw_items:
        raise Refusal(_("Please choose at least one file."))
    if len(raw_items) > settings.CALLER_MAX_ITEMS_PER_SUBMISSION:
        limit = settings.CALLER_MAX_ITEMS_PER_SUBMISSION
        raise Refusal(ngettext("Please send at most %(limit)s file at a time.",
                               "Please send at most %(limit)s files at a time.", limit) % {"limit": limit}, status=413)
    cleaned, numbers = {}, {}
    for number, raw in enumerate(raw_items, start=1):
        item = clean_item(number, raw)
        first = cleaned.setdefault(item["md5"], item)  # the same file chosen twice is one item...
        numbers.setdefault(item["md5"], number)
        if first != item:  # ... but one file cannot give two sets of fingerprints
            raise Refusal(_("Files %(first)s and %(number)s are the same file with different fingerprints. "
                                "Please reload the page and choose your files again.")
                              % {"first": numbers[item["md5"]], "number": number})
    return list(cleaned.values())


def item_signals(data):
    """(signal type, value, quality, video, other file) of each signal one cleaned item carries."""
    held = [(signal_types.MD5.code, data["md5"], None, data["kind"] == Item.Kind.VIDEO,
             data["kind"] == Item.Kind.FILE)]
    if data["pdq"]:
        held += [(signal_types.PDQ.code, data["pdq"], data["pdq_quality"], False, False),
                 (signal_types.PHASH.code, data["phash"], None, False, False)]
    if data["vpdq"]:
        held.append((signal_types.VPDQ.code, data["vpdq"], None, False, False))  # its quality: bank_signal's
    return held


def hold_signals(wanted, *, quarantine=False):
    """The bank rows for the signals a case now holds: created if new, active again if only withdrawn cases held
    them (a hash under review stays under review). Returns {(type, value): BankHash}.

    `quarantine` (a held self-service submission, cases/flood.py): every row that is not shareable already is
    held for review before anything else changes it, so no logged state of it is ever shareable; a hash that is
    shared already stays shared (holding it would let a flood unshare other callers' hashes).

    Rows are written and locked in one global order, (type, value), as withdraw_case locks them, after the case
    and its links (lock_case_and_links), so concurrent submissions and withdrawals sharing hashes wait for each
    other instead of deadlocking. The locks keep a withdrawal of another case from deciding "no one else holds
    it" meanwhile.
    """
    best, videos, media = {}, set(), set()
    for signal_type, value, quality, video, other_file in wanted:
        known = best.get((signal_type, value))
        best[(signal_type, value)] = quality if known is None or (quality or 0) > known else known
        if video:
            videos.add((signal_type, value))
        if not other_file:
            media.add((signal_type, value))
    new_review = BankHash.Review.QUARANTINED if quarantine else BankHash.Review.NONE
    # The order withdraw_case locks in: the bank's (type, value), where a vPDQ's value is its key.
    order = sorted(best, key=lambda held: (held[0], signal_types.get(held[0]).key(held[1])))
    for signal_type, value in order:
        quality = best[(signal_type, value)]
        if quarantine:
            known = BankHash.objects.select_for_update().signal(signal_type, value).first()
            if known and known.review == BankHash.Review.NONE and not known.is_shareable:
                bank.set_review(known, BankHash.Review.QUARANTINED)
        bank.bank_signal(signal_type, value, quality=quality, video=(signal_type, value) in videos,
                         other_file=(signal_type, value) not in media, review_if_new=new_review)
    rows = {}
    for key in order:
        bank_hash = BankHash.objects.select_for_update().signal(*key).get()
        if bank_hash.status == BankHash.Status.WITHDRAWN:
            bank.set_status(bank_hash, BankHash.Status.ACTIVE)
        rows[key] = bank_hash
    return rows


def items_digest(cleaned):
    return hashlib.sha256(",".join(sorted(item["md5"] for item in cleaned)).encode()).hexdigest()


def new_pin():
    return "".join(secrets.choice("0123456789") for _ in range(PIN_DIGITS))


def set_pin(case, link):
    """A new PIN for the case, set through `link` on the caller's device (saved with the case by the caller of
    this). Returns the PIN: it exists only in the answer to that device. Any earlier PIN stops working, and so
    does any pause after wrong PINs."""
    pin = new_pin()
    case.pin_digest, case.pin_link = make_password(pin), link
    case.pin_failures, case.locked_until = 0, None
    return pin


def check_try_id(value):
    """The name the caller's page gave its submission (or its try at a new PIN), so a retry is recognised."""
    if not isinstance(value, str) or not 8 <= len(value) <= 64:
        raise Refusal(_("This page is out of date. Please reload it and try again."))


@transaction.atomic
def submit_items(code, *, submission_id, consent, items):
    """The caller's hashes, from their device: items into the case, signals into the bank.

    Returns (case, pin). The case's first submission sets its PIN, which exists only in this return value (the
    case keeps a digest); later links add to the case and return pin=None: the caller keeps the PIN they have,
    and nobody who issues a link can obtain a working one. A retry of the same submission (same id, same
    items, link not expired) adds nothing twice; if that submission set the PIN, it answers with a fresh PIN,
    since the first answer may never have arrived.
    """
    check_try_id(submission_id)
    consent_version = clean_consent(consent)
    cleaned = clean_items(items)
    digest = items_digest(cleaned)
    link = find_link(code, retry_of=(submission_id, digest), purpose=HashingLink.Purpose.HASHING)
    case, links = lock_case_and_links(link.case_id, [link.pk])
    # Again under the locks: a withdrawal or another submission may have come first.
    link = check_link(links[link.pk], retry_of=(submission_id, digest))
    known = set(case.items.values_list("md5", flat=True))
    new = [item for item in cleaned if item["md5"] not in known]
    if len(known) + len(new) > settings.CALLER_MAX_ITEMS_PER_CASE:
        raise Refusal(_("This case cannot take more files. Please contact the helpline."), status=429)

    quarantine = bool(new) and flood.holds(link)
    if quarantine:
        flood.alert_if_first()
    rows = hold_signals([signal for data in new for signal in item_signals(data)], quarantine=quarantine)
    held = sum(1 for row in rows.values() if row.review == BankHash.Review.QUARANTINED) if quarantine else 0
    for data in new:
        item = Item.objects.create(case=case, kind=data["kind"], md5=data["md5"], pdq_quality=data["pdq_quality"],
                                   unreadable=data["unreadable"], frames=data["frames"])
        item.bank_hashes.add(*(rows[(signal_type, value)] for signal_type, value, *_rest in item_signals(data)))

    now = timezone.now()
    retry = link.used_at is not None
    pin = None
    if not case.pin_digest or (retry and case.pin_link_id == link.pk):
        pin = set_pin(case, link)
    case.consent_version, case.consented_at = consent_version, now
    moved = case.status == Case.Status.OPEN
    if moved:
        case.status = Case.Status.HASHES_SUBMITTED
    case.save()
    link.used_at, link.submission_id, link.submission_digest = link.used_at or now, submission_id, digest
    link.save(update_fields=["used_at", "submission_id", "submission_digest"])
    kinds = {kind: sum(1 for d in new if d["kind"] == kind) for kind in Item.Kind.values}
    record("items.submitted", actor_label="caller", target=case, details={
        "link": link.pk, "new_items": len(new), "retry": retry, "kinds": kinds, "held": held,
    })
    if new:
        log_event(case, CaseEvent.Kind.ITEMS_ADDED, link=link.pk, kinds=kinds, held=held,
                  low_quality=sum(1 for d in new if d["pdq"] and signal_types.is_low_quality(d["pdq_quality"])))
    if moved:
        log_event(case, CaseEvent.Kind.STATUS, to=case.status)
    return case, pin


@transaction.atomic
def reset_pin(code, *, attempt):
    """A new PIN through a new-PIN link, on the caller's device: the old PIN stops working and any pause after
    wrong PINs ends. Returns (case, pin); the PIN exists only in this return value (the case keeps a digest).

    `attempt` names the page's try: the same try again (its answer lost) gets a fresh PIN while the link lasts,
    and the unseen one stops working; anyone else finds the link used.
    """
    check_try_id(attempt)
    retry_of = (attempt, "")  # no items: the digest a hashing link's submission always has is never empty
    link = find_link(code, retry_of=retry_of, purpose=HashingLink.Purpose.NEW_PIN)
    case, links = lock_case_and_links(link.case_id, [link.pk])
    link = check_link(links[link.pk], retry_of=retry_of)
    pin = set_pin(case, link)
    case.save(update_fields=["pin_digest", "pin_link", "pin_failures", "locked_until"])
    retry = link.used_at is not None
    link.used_at, link.submission_id = link.used_at or timezone.now(), attempt
    link.save(update_fields=["used_at", "submission_id"])
    record("case.pin_reset", actor_label="caller", target=case, details={"link": link.pk, "retry": retry})
    log_event(case, CaseEvent.Kind.PIN_RESET, link=link.pk, retry=retry)
    return case, pin


# --- The caller's status page ------------------------------------------------------------------------------


def format_pin(pin):
    return f"{pin[:4]} {pin[4:]}"


def unlock_case(reference, pin):
    """The case for a reference and PIN, or Refusal with one message for every failure (unknown reference,
    wrong PIN, locked), so the answer tells a guesser nothing. PIN_LOCK_AFTER wrong PINs pause checking for
    PIN_LOCK_MINUTES; the message says so, and that the helpline can send a new PIN (reset_pin)."""
    tries, minutes = settings.PIN_LOCK_AFTER, settings.PIN_LOCK_MINUTES
    refused = Refusal(" ".join([
        _("We could not find a case with that reference and PIN. Please check both and try again."),
        ngettext("After %(tries)s wrong try, checking a case is paused, even with the right PIN.",
                 "After %(tries)s wrong tries, checking a case is paused, even with the right PIN.", tries)
        % {"tries": tries},
        ngettext("The pause lasts %(minutes)s minute.", "The pause lasts %(minutes)s minutes.", minutes)
        % {"minutes": minutes},
        _("If you lost your PIN, or checking is paused, call the helpline: they can send a new PIN to this device."),
    ]), status=403)
    pin = "".join(str(pin or "").split())
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(reference=normalise_code(reference)).first()
        if case is None or case.is_locked() or not case.pin_digest:
            check_password(pin, no_case_digest())  # the same work as a real comparison
            raise refused
        if check_password(pin, case.pin_digest):
            if case.pin_failures:
                case.pin_failures = 0
                case.save(update_fields=["pin_failures"])
            return case
        case.pin_failures += 1
        if case.pin_failures >= settings.PIN_LOCK_AFTER:
            case.pin_failures = 0
            case.locked_until = timezone.now() + timedelta(minutes=settings.PIN_LOCK_MINUTES)
            record("case.pin_locked", actor_label="caller", target=case)
        case.save(update_fields=["pin_failures", "locked_until"])
    raise refused


@transaction.atomic
def withdraw_case(case, *, by=None, reason="", note=""):
    """Withdraw a case: its bank hashes stop being active unless another case still holds them; its open links
    are cancelled; the web addresses partners were sent are withdrawn (case_withdrawn); its caseworker is told
    in the portal. Withdrawing twice changes nothing.

    `by` is None when the caller withdraws on the status page; a staff member withdrawing on the caller's word
    gives a `reason` (Case.MOVE_REASONS) and may add a note."""
    case, _links = lock_case_and_links(case.pk)  # its links are cancelled below
    if case.is_withdrawn:
        return case
    if by is not None:
        check_reason("withdraw", reason, note)
    now = timezone.now()
    case.status, case.withdrawn_at, case.ended_at = Case.Status.WITHDRAWN, now, now
    case.save(update_fields=["status", "withdrawn_at", "ended_at"])
    # Used links too: a retry of their submission must not add to a withdrawn case.
    case.links.filter(revoked_at=None).update(revoked_at=now)
    case_withdrawn.send(sender=Case, case=case)

    released = 0
    held_here = BankHash.objects.select_for_update().filter(pk__in=case.items.values("bank_hashes")).order_by(
        "signal_type", "value")  # the order hold_signals locks in
    for bank_hash in held_here:
        held_elsewhere = Item.objects.filter(bank_hashes=bank_hash, case__status__in=Case.HOLDING).exists()
        # Whatever its review: a paused hash no case holds is withdrawn too, so un-pausing cannot share it.
        if not held_elsewhere and bank_hash.status != BankHash.Status.WITHDRAWN:
            bank.set_status(bank_hash, BankHash.Status.WITHDRAWN)
            released += 1

    recipients = {case.caseworker_id} | set(case.contacts.values_list("taken_by", flat=True))
    Notification.objects.bulk_create(
        Notification(recipient_id=pk, case=case, kind=Notification.Kind.WITHDRAWN)
        for pk in recipients if pk and pk != getattr(by, "pk", None))
    record("case.withdrawn", actor=by, actor_label="" if by else "caller", target=case,
           details={"bank_hashes_withdrawn": released})
    log_event(case, CaseEvent.Kind.WITHDRAWN, by=by, bank_hashes_withdrawn=released, reason=reason,
              note=CaseNote.objects.create(case=case, author=by, text=note) if note else None)
    return case


# --- Self-service ------------------------------------------------------------------------------------------


@transaction.atomic
def start_self_service(*, language, **answers):
    """A caller alone, from the public start page: a self-service contact, and when eligible its case and a
    link for this device. Returns (contact, code or None)."""
    contact = take_contact(by=None, channel=Contact.Channel.SELF_SERVICE, language=language, **answers)
    if contact.ineligible_because():
        return contact, None
    case = open_case(contact, by=None)
    _link, code = issue_link(case, by=None)
    return contact, code


# --- Casework: status moves, assignment, checklist, referrals, notes ----------------------------------------


def check_reason(move, reason, note=""):
    if reason not in dict(Case.MOVE_REASONS.get(move, ())):
        raise Refusal("Choose a reason from the list.")
    if len(note) > CaseNote.MAX_LENGTH:
        raise Refusal(f"The note is too long: at most {CaseNote.MAX_LENGTH} characters.", status=413)


def holds_shareable_hash(case):
    return BankHash.objects.shareable().filter(items__case=case).exists()


@transaction.atomic
def move_case(case, move, *, by, reason="", note=""):
    """A person moves a case's status by a named move, within its rule; raises Refusal (409) otherwise.

    activate: hashes submitted → active, only with a shareable hash; close: open, hashes submitted or active →
    closed, with a reason; reopen: closed → where its items put it, with a reason; withdraw (on the caller's
    word): see withdraw_case.
    """
    allowed_from = Case.MOVES.get(move)
    if allowed_from is None:
        raise Refusal(f"Unknown status move {move!r}.")
    if move in Case.MOVE_REASONS:
        check_reason(move, reason, note)
    elif reason or note:  # nothing free-form rides along into the audit row or the timeline
        raise Refusal("This move takes no reason or note.")
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status not in allowed_from:
        raise Refusal(f"A case that is {case.get_status_display().lower()} cannot be moved that way.", 409)
    if move == "withdraw":
        return withdraw_case(case, by=by, reason=reason, note=note)
    if move == "activate":
        if not holds_shareable_hash(case):
            raise Refusal("The case has no hash that may be shared yet (a PDQ of quality 50 or more, or an "
                              "MD5), so it cannot be active.", 409)
        target = Case.Status.ACTIVE
    elif move == "close":
        target = Case.Status.CLOSED
    else:  # reopen
        target = Case.Status.HASHES_SUBMITTED if case.items.exists() else Case.Status.OPEN
    before, case.status = case.status, target
    case.ended_at = timezone.now() if target == Case.Status.CLOSED else None
    case.save(update_fields=["status", "ended_at"])
    record(f"case.{move}", actor=by, target=case, details={"from": before, "to": target, "reason": reason})
    log_event(case, CaseEvent.Kind.STATUS, by=by, to=target, move=move, reason=reason,
              note=CaseNote.objects.create(case=case, author=by, text=note) if note else None)
    return case


@transaction.atomic
def assign_case(case, caseworker, *, by):
    """A supervisor assigns (or reassigns) a case; the new caseworker is told in the portal."""
    if caseworker is not None and not caseworker.has_role(roles.CASEWORKER, roles.SUPERVISOR):
        raise Refusal("Cases can be assigned only to active caseworkers or supervisors.")
    case = Case.objects.select_for_update().get(pk=case.pk)
    before = case.caseworker_id
    if before == getattr(caseworker, "pk", None):
        return case
    case.caseworker = caseworker
    case.save(update_fields=["caseworker"])
    if caseworker is not None and caseworker != by:
        Notification.objects.create(recipient=caseworker, case=case, kind=Notification.Kind.ASSIGNED)
    record("case.assigned", actor=by, target=case, details={"from": before, "to": getattr(caseworker, "pk", None)})
    log_event(case, CaseEvent.Kind.ASSIGNED, by=by, to=getattr(caseworker, "pk", None),
              to_name=str(caseworker) if caseworker else "")
    return case


@transaction.atomic
def answer_checklist(case, answers, *, by):
    """Several checklist lines at once, {evidence id: (state, note)}: all saved, or none."""
    for evidence_id, (state, note) in sorted(answers.items()):
        answer_evidence(case, evidence_id, state=state, note=note, by=by)


@transaction.atomic
def answer_evidence(case, evidence_id, *, state, note="", by):
    evidence = CaseEvidence.objects.select_for_update().filter(case=case, pk=evidence_id).first()
    if evidence is None:
        raise Refusal("That checklist item is not on this case.", status=404)
    if state not in CaseEvidence.State.values:
        raise Refusal("Choose done, not done or not applicable.")
    note = note.strip()
    if len(note) > CaseEvidence.NOTE_LENGTH:
        raise Refusal(f"The checklist note is too long: at most {CaseEvidence.NOTE_LENGTH} characters.", 413)
    if (evidence.state, evidence.note) == (state, note):
        return evidence
    evidence.state, evidence.note, evidence.changed_by, evidence.changed_at = state, note, by, timezone.now()
    evidence.save()
    log_event(case, CaseEvent.Kind.CHECKLIST, by=by, item=evidence.pk, label=evidence.label, state=state)
    return evidence


@transaction.atomic
def refer(case, to, *, status=Referral.Status.SUGGESTED, outcome="", by):
    """Add a referral to the case (and its first contact), or update the one already made to that service."""
    if to not in Referral.To.values:
        raise Refusal("Choose a service from the list.")
    if status not in Referral.Status.values:
        raise Refusal("Choose suggested, made or declined.")
    outcome = outcome.strip()
    if len(outcome) > 200:
        raise Refusal("The outcome is too long: at most 200 characters.", 413)
    Case.objects.select_for_update().get(pk=case.pk)  # one referral change per case at a time
    contact = case.contacts.order_by("created", "id").first()
    referral = Referral.objects.filter(case=case, to=to).first()
    if referral is None:
        referral = Referral.objects.create(contact=contact, case=case, to=to, status=status, outcome=outcome,
                                           created_by=by)
    elif (referral.status, referral.outcome) == (status, outcome):
        return referral
    else:
        referral.status, referral.outcome = status, outcome
        referral.save(update_fields=["status", "outcome"])
    log_event(case, CaseEvent.Kind.REFERRAL, by=by, to=to, status=status)
    return referral


@transaction.atomic
def add_note(case, text, *, by):
    text = text.strip()
    if not text:
        raise Refusal("The note is empty.")
    if len(text) > CaseNote.MAX_LENGTH:
        raise Refusal(f"The note is too long: at most {CaseNote.MAX_LENGTH} characters.", status=413)
    note = CaseNote.objects.create(case=case, author=by, text=text)
    log_event(case, CaseEvent.Kind.NOTE, by=by, note=note)
    return note
