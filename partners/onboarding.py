"""Partners and their keys, as partner managers, commands and the partner API's authentication handle them:
creating a partner, its contacts, its onboarding checklist and moves (and what going live needs), issuing,
revoking and rotating its keys. Each change is audited in the same transaction. `actor_label` names a non-person
actor (e.g. "command:partner_key")."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from audit.actions import record
from core.clientip import client_ip
from core.errors import Refusal
from partners import push, sandbox, webhooks
from partners.models import ApiKey, Partner, PartnerContact

RESERVED_SLUGS = {"review"}  # /partners/review/ is the review queue


@transaction.atomic
def create_partner(*, name, slug, by=None, actor_label="", **fields):
    if slug in RESERVED_SLUGS:
        raise Refusal(f"{slug!r} names a page of the portal; choose another slug.", field="slug")
    if Partner.objects.filter(slug=slug).exists():
        raise Refusal(f"A partner with the slug {slug!r} already exists.", field="slug")
    partner = Partner.objects.create(name=name, slug=slug, **fields)
    record("partner.created", actor=by, actor_label=actor_label, target=partner, details={"slug": slug})
    return partner


@transaction.atomic
def set_checklist(partner, *, by=None, actor_label="", **answers):
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    known = dict(Partner.CHECKLIST)
    changed = {}
    for field, value in answers.items():
        if field not in known:
            raise Refusal(f"Unknown checklist item {field!r}.", field=field)
        if getattr(partner, field) != bool(value):
            setattr(partner, field, bool(value))
            changed[field] = bool(value)
    if changed:
        partner.save(update_fields=list(changed))
        record("partner.checklist", actor=by, actor_label=actor_label, target=partner, details=changed)
    return partner


def readiness(partner):
    """[(what going live needs, whether the records show it)]: read from the records, not ticked, since a
    partner must not go live untested. The sandbox test is the partner's reports on every sandbox photo (the
    partner manager reads them on its page); a partner that takes pushes has answered a test event 2xx."""
    reported = len(sandbox.reported_photos(partner))
    needs = [("A contact named", partner.contacts.exists()),
             (f"Sandbox reports on all {sandbox.PHOTOS} photos ({reported} so far)", reported == sandbox.PHOTOS),
             ("A working API key", partner.keys.working().exists())]
    if partner.delivery != Partner.Delivery.PULL:
        needs.append(("A test event delivered to its webhook", webhooks.test_delivered(partner)))
    return needs


def missing_for(partner, move):
    """What keeps `move` from making the partner live, by label: the checklist's ticks (both moves), and for
    a first "go_live" what readiness reads. [] when nothing does, or when the move does not go live."""
    if Partner.MOVES[move][1] != Partner.State.LIVE:
        return []
    missing = partner.unticked
    if move == "go_live":
        missing += [what for what, done in readiness(partner) if not done]
    return missing


@transaction.atomic
def move_partner(partner, move, *, by=None, actor_label="", override=False):
    """A named onboarding move within its rule; Refusal (409) otherwise, naming what is missing. Suspending or
    offboarding stops the partner's keys at once (authenticate checks the state on every request); offboarding
    also drops the push batches it was never delivered.

    `override` goes live whatever is missing, and the audit row lists it: for an operator's explicit command
    (manage.py partner_key --create), never for a page."""
    if move not in Partner.MOVES:
        raise Refusal(f"Unknown move {move!r}.")
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    sources, target = Partner.MOVES[move]
    if partner.state not in sources:
        raise Refusal(f"A partner in state {partner.get_state_display()!r} cannot "
                      f"{Partner.move_label(move).lower()}.", status=409)
    missing = missing_for(partner, move)
    if missing and not override:
        raise Refusal("Not live until the onboarding checklist is complete: " + "; ".join(missing) + ".",
                      status=409)
    before, partner.state = partner.state, target
    partner.save(update_fields=["state"])
    details = {"from": before, "to": target}
    if missing:
        details["overridden"] = missing
    if move == "go_live":
        webhooks.start_push(partner)  # a webhook set up in integration
    if target == Partner.State.OFFBOARDED:
        details["batches_dropped"] = push.drop_undelivered(partner)  # it will never be sent them
    record(f"partner.{move}", actor=by, actor_label=actor_label, target=partner, details=details)
    return partner


@transaction.atomic
def add_contact(partner, *, by=None, actor_label="", name, email, role=""):
    contact = PartnerContact.objects.create(partner=partner, name=name, email=email, role=role)
    record("partner.contact_added", actor=by, actor_label=actor_label, target=partner,
           details={"contact": contact.pk, "role": role})
    return contact


@transaction.atomic
def remove_contact(contact, *, by):
    record("partner.contact_removed", actor=by, target=contact.partner, details={"contact": contact.pk})
    contact.delete()


def check_scopes(scopes):
    unknown = set(scopes) - set(ApiKey.Scope.values)
    if not scopes or unknown:
        raise Refusal(f"Scopes must be among {', '.join(ApiKey.Scope.values)}.", field="scopes")
    return sorted(set(scopes))


@transaction.atomic
def issue_key(partner, *, scopes, by=None, actor_label="", label="", expires_at=None):
    """A new key: returns (key, secret). The secret exists only in this return value."""
    scopes = check_scopes(scopes)
    if partner.state == Partner.State.OFFBOARDED:
        raise Refusal("An offboarded partner gets no keys.", status=409)
    public_id, secret = ApiKey.new_credentials()
    key = ApiKey(partner=partner, public_id=public_id, scopes=scopes, label=label, expires_at=expires_at,
                 created_by_label=str(by) if by else actor_label)
    key.set_secret(secret)
    key.save()
    record("partner.key_issued", actor=by, actor_label=actor_label, target=partner,
           details={"key": public_id, "scopes": scopes, "expires": expires_at.isoformat() if expires_at else None})
    return key, secret


@transaction.atomic
def revoke_key(key, *, by=None, actor_label=""):
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        record("partner.key_revoked", actor=by, actor_label=actor_label, target=key.partner,
               details={"key": key.public_id})
    return key


@transaction.atomic
def rotate_key(key, *, overlap_hours=24, by=None, actor_label=""):
    """A new key with the same scopes; the old one keeps working for the overlap, then expires."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if not key.is_working():
        raise Refusal("Only a working key can be rotated; issue a new key instead.", status=409)
    new, secret = issue_key(key.partner, scopes=key.scopes, by=by, actor_label=actor_label, label=key.label)
    ends = timezone.now() + timedelta(hours=overlap_hours)
    key.expires_at = min(key.expires_at, ends) if key.expires_at else ends
    key.replaced_by = new
    key.save(update_fields=["expires_at", "replaced_by"])
    record("partner.key_rotated", actor=by, actor_label=actor_label, target=key.partner,
           details={"key": key.public_id, "new_key": new.public_id, "old_key_until": key.expires_at.isoformat()})
    return new, secret


def authenticate(public_id, secret, *, scope, request=None, sandbox=False):
    """The working key for these credentials, allowed `scope`, of a partner whose state lets it in (live; for the
    sandbox, also in integration); otherwise Refusal: 401 for unknown or wrong credentials, 403 for a key
    that is revoked, expired, out of scope or of a partner whose state keeps it out."""
    if not public_id or not secret:
        raise Refusal("Send your API key (see the API documentation for the headers).", status=401)
    key = ApiKey.objects.select_related("partner").filter(public_id=str(public_id)[:40]).first()
    if not (key or ApiKey.decoy()).matches(str(secret)) or key is None:
        raise Refusal("Unknown API key or wrong secret.", status=401)
    if not key.is_working():
        raise Refusal("This API key was revoked or has expired. Ask the helpline for a new one.", status=403)
    if scope not in key.scopes:
        raise Refusal(f"This API key does not have the {scope!r} scope.", status=403)
    if sandbox and key.partner.state not in (Partner.State.INTEGRATION, Partner.State.LIVE):
        raise Refusal("The sandbox is for partners in integration or live; this partner is neither.",
                           status=403)
    if not sandbox and key.partner.state != Partner.State.LIVE:
        raise Refusal("This partner is not live: its keys do not reach real hashes. Partners in integration "
                           "test against the sandbox (/api/sandbox/).", status=403)
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):  # not a write per request
        ApiKey.objects.filter(pk=key.pk).update(
            last_used_at=now, last_used_ip=client_ip(request) if request is not None else None)
    return key
