"""Partner managers' pages: the onboarding pipeline, a partner's checklist, moves and keys, its outcomes."""

from datetime import timedelta

from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from core.errors import Refusal
from hashing.models import BankHash
from partners import feed, onboarding, outcomes, push, sandbox, stopncii, webhooks
from partners.forms import ChecklistForm, ContactForm, KeyForm, PartnerForm, WebhookForm
from partners.models import ApiKey, FeedPosition, Partner, PartnerContact, Webhook
from staff import roles
from staff.decorators import Saved, object_action, role_required

MANAGERS = (roles.PARTNER_MANAGER, roles.ADMINISTRATOR)
ONBOARDING = (Partner.State.PROSPECT, Partner.State.VETTING, Partner.State.AGREEMENT, Partner.State.INTEGRATION)


@role_required(*MANAGERS, forms=True)
def partner_list(request):
    form = PartnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner = onboarding.create_partner(by=request.user, **form.cleaned_data)
        except Refusal as error:
            form.add_error(error.field or None, error.message)
        else:
            return Saved(f"{partner.name} added, as a prospect.", to=partner_page(partner))
    partners = list(Partner.objects.all())
    board = [(label, [p for p in partners if p.state == state]) for state, label in Partner.State.choices]
    return render(request, "partners/list.html", {"board": board, "form": form},
                  status=400 if form.errors else 200)


def feed_positions(partner):
    """Each route this partner is sent hashes by (feeds it fetches, push): when it last fetched or was delivered
    to, and how many records it has still to receive."""
    rows = []
    for position in partner.feed_positions.order_by("route"):
        if position.route in (FeedPosition.Route.NATIVE, FeedPosition.Route.PUSH) and position.txid is not None:
            behind = feed.behind(partner, (position.txid, position.change_id))
        elif position.route == FeedPosition.Route.STOPNCII and position.checkpoint is not None:
            behind = stopncii.behind(partner, position.checkpoint)
        else:
            behind = None  # the sandbox's history is fixed; nothing known yet
        rows.append({"route": position.get_route_display(), "fetched_at": position.fetched_at, "behind": behind})
    return rows


def partner_page(partner):
    return reverse("partner_detail", args=[partner.slug])


def detail_page(request, partner, *, status=200, error=None, contact_form=None, webhook_form=None):
    """The partner's page; what a POST just made is shown this once (staff.decorators.Saved): a new key, a new
    webhook signing secret, the answer to a test event."""
    return render(request, "partners/detail.html", {
        "partner": partner,
        "contacts": partner.contacts.order_by("name"),
        "contact_form": contact_form or ContactForm(),
        "positions": feed_positions(partner),
        "sandbox": sandbox.summary(partner),
        "webhook": Webhook.objects.filter(partner=partner).first(),
        "push_health": push.health(partner),
        "webhook_form": webhook_form or WebhookForm(),
        "new_webhook_secret": request.once.get("webhook_secret"),
        "test_attempt": request.once.get("test_attempt"),
        "checklist_form": ChecklistForm(instance=partner),
        "readiness": onboarding.readiness(partner) if partner.state in ONBOARDING else [],
        "key_form": KeyForm(),
        "keys": partner.keys.all(),
        "moves": [(move, Partner.move_label(move)) for move, (sources, _target) in Partner.MOVES.items()
                  if partner.state in sources],
        "outcomes": partner.outcomes.select_related("bank_hash").order_by("-received", "-id")[:50],
        "new_key": request.once.get("key"),
        "error": error,
    }, status=status)


@role_required(*MANAGERS)
def partner_detail(request, slug):
    return detail_page(request, get_object_or_404(Partner, slug=slug))


partner_action = object_action(*MANAGERS, key="slug", find=lambda request, slug: get_object_or_404(Partner, slug=slug),
                               page=detail_page, back=partner_page)


@partner_action
def partner_move(request, partner):
    moved = onboarding.move_partner(partner, request.POST.get("move", ""), by=request.user)
    return Saved(f"Moved: {moved.name} is now {moved.get_state_display().lower()}.")


@partner_action
def partner_checklist(request, partner):
    form = ChecklistForm(request.POST, instance=Partner.objects.get(pk=partner.pk))
    form.is_valid()  # booleans: always valid
    onboarding.set_checklist(partner, by=request.user, **form.cleaned_data)
    return Saved("Checklist saved.", section="checklist-heading")


@partner_action
def partner_contact_add(request, partner):
    form = ContactForm(request.POST)
    if not form.is_valid():
        return detail_page(request, partner, status=400, contact_form=form)
    onboarding.add_contact(partner, by=request.user, **form.cleaned_data)
    return Saved("Contact added.", section="contacts-heading")


@partner_action
def partner_contact_remove(request, partner, pk):
    onboarding.remove_contact(get_object_or_404(PartnerContact, pk=pk, partner=partner), by=request.user)
    return Saved("Contact removed.", section="contacts-heading")


def new_webhook_secret(secret):
    """A new signing secret, which the page shows once (the portal keeps it encrypted, for signing only)."""
    return Saved("Webhook saved: copy its signing secret now.", section="new-secret", once={"webhook_secret": secret})


@partner_action
def partner_webhook_set(request, partner):
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return detail_page(request, partner, status=400, webhook_form=form)
    return new_webhook_secret(webhooks.set_webhook(partner, form.cleaned_data["url"], by=request.user,
                                                   ack_on_2xx=form.cleaned_data["ack_on_2xx"]))


@partner_action
def partner_webhook_rotate(request, partner):
    return new_webhook_secret(webhooks.rotate_webhook_secret(partner, by=request.user))


@partner_action
def partner_push_pause(request, partner):
    webhooks.pause_push(partner, by=request.user)
    return Saved("Push is paused: changes wait, in order, until it is resumed.", section="push-heading")


@partner_action
def partner_push_resume(request, partner):
    parked = webhooks.resume_push(partner, by=request.user)
    return Saved(f"Push resumed; {parked} parked batch{'es' if parked != 1 else ''} will be sent again.",
                 section="push-heading")


@partner_action
def partner_webhook_test(request, partner):
    attempt = webhooks.send_test_event(partner, by=request.user)
    return Saved("Test event sent.", section="push-heading", once={"test_attempt": {
        "status_code": attempt.status_code, "milliseconds": attempt.milliseconds, "error": attempt.error,
        "succeeded": attempt.succeeded}})


def new_key(key, secret):
    """A new key, which the page shows once, at its top (the portal keeps only a digest of the secret)."""
    return Saved("Key issued: copy it now.", section="new-key",
                 once={"key": {"public_id": key.public_id, "secret": secret}})


@partner_action
def partner_key_issue(request, partner):
    form = KeyForm(request.POST)
    if not form.is_valid():
        raise Refusal("Choose at least one scope; expiry is 1 to 3650 days or empty.")
    days = form.cleaned_data["expires_in_days"]
    return new_key(*onboarding.issue_key(partner, scopes=form.cleaned_data["scopes"], by=request.user,
                                         label=form.cleaned_data["label"],
                                         expires_at=timezone.now() + timedelta(days=days) if days else None))


@partner_action
def partner_key_revoke(request, partner, pk):
    onboarding.revoke_key(get_object_or_404(ApiKey, pk=pk, partner=partner), by=request.user)
    return Saved("The key was revoked; it stopped working at once.", section="keys-heading")


@partner_action
def partner_key_rotate(request, partner, pk):
    return new_key(*onboarding.rotate_key(get_object_or_404(ApiKey, pk=pk, partner=partner), by=request.user))


# Who decides on a hash under review: partner managers on partners' contributions and NotBlocked pauses,
# supervisors on what the self-service flood quarantine holds (cases/flood.py); administrators on both.
QUARANTINE_REVIEWERS = roles.QUARANTINE_REVIEWERS
REVIEWERS = (*MANAGERS, roles.SUPERVISOR)


def may_decide(user, review):
    return user.has_role(*(QUARANTINE_REVIEWERS if review == BankHash.Review.QUARANTINED else MANAGERS))


@role_required(*REVIEWERS)
def review_queue(request):
    """Hashes waiting for a person: contributed by partners (held), reported not NCII by several (paused), or
    brought by a self-service flood (quarantined). Each person sees the ones their role decides."""
    waiting = [bank_hash for bank_hash in (BankHash.objects.filter(review__in=outcomes.WAITING)
                                           .prefetch_related("outcomes__partner").order_by("changed", "id"))
               if may_decide(request.user, bank_hash.review)]
    quarantined = [h for h in waiting if h.review == BankHash.Review.QUARANTINED]
    return render(request, "partners/review_queue.html", {
        "quarantined": quarantined, "waiting": [h for h in waiting if h not in quarantined],
        "decides_quarantine": request.user.has_role(*QUARANTINE_REVIEWERS),
        "decides_partners": request.user.has_role(*MANAGERS),
    })


def review_queue_page(_bank_hash=None):
    return reverse("review_queue")


@object_action(*REVIEWERS, key="pk", find=lambda request, pk: get_object_or_404(BankHash, pk=pk),
               back=review_queue_page)
def review_decide(request, bank_hash):
    if not may_decide(request.user, bank_hash.review):
        raise Refusal("Your role does not decide on this hash.", status=403)
    section = "h-quarantine" if bank_hash.review == BankHash.Review.QUARANTINED else "h-partners"
    outcomes.review_hash(bank_hash, request.POST.get("decision", ""), by=request.user)
    return Saved("Decision recorded.", section=section)


@object_action(*QUARANTINE_REVIEWERS, back=review_queue_page)
def review_quarantine(request):
    """Release or reject, in one decision, the whole batch the flood quarantine holds."""
    decision = request.POST.get("decision", "")
    count = outcomes.review_quarantined(decision, by=request.user)
    done = "released: shared as the usual rules allow" if decision == "approve" else "rejected: never shared"
    return Saved(f"{count} held hash{'es' if count != 1 else ''} {done}.", section="h-quarantine")
