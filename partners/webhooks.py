"""A partner's push, as partner managers and the partner_webhook command set it: its webhook and signing secret,
pausing and resuming it, a test event. The delivery itself is partners.push. Each change is audited."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from audit.actions import record
from core.errors import Refusal
from partners import push, tasks
from partners.models import Delivery, DeliveryAttempt, FeedPosition, Partner, Webhook


@transaction.atomic
def set_webhook(partner, url, *, by=None, actor_label="", ack_on_2xx=False):
    """Point a partner's push at `url` (checked: public https only) and set it to push: a live partner's, or one
    in integration testing it (a test event; nothing is pushed until it is live). A partner new to push gets a
    signing secret and will first receive every hash it may hold now, then changes; one that had a webhook keeps
    its position, and its secret is rotated (the old one still signs for a day). Returns the new secret, shown
    once."""
    if partner.state not in (Partner.State.INTEGRATION, Partner.State.LIVE):
        raise Refusal("Only a partner in integration or live has a webhook.", status=409)
    try:
        push.resolve(url)
    except push.UnsafeURL as refusal:
        raise Refusal(str(refusal), field="url") from None
    if partner.delivery == Partner.Delivery.PULL:
        Partner.objects.filter(pk=partner.pk).update(delivery=Partner.Delivery.BOTH)
        partner.delivery = Partner.Delivery.BOTH
    secret = push.new_secret()
    webhook = Webhook.objects.select_for_update().filter(partner=partner).first()
    if webhook is None:
        Webhook.objects.create(partner=partner, url=url, secret=push.seal(secret), ack_on_2xx=ack_on_2xx)
        if partner.state == Partner.State.LIVE:
            start_push(partner)
        record("partner.webhook_set", actor=by, actor_label=actor_label, target=partner, details={"new": True})
    else:
        rotate(webhook, secret, url=url)
        Webhook.objects.filter(pk=webhook.pk).update(ack_on_2xx=ack_on_2xx)
        record("partner.webhook_set", actor=by, actor_label=actor_label, target=partner, details={"new": False})
    return secret


def start_push(partner):
    """A partner with a webhook is known to push from now on (at the start of the log): retention waits for it
    like for any reader. From going live, or from setting a webhook when live: one in integration is sent
    nothing yet."""
    if Webhook.objects.filter(partner=partner).exists():
        FeedPosition.objects.get_or_create(partner=partner, route=FeedPosition.Route.PUSH,
                                           defaults={"txid": 0, "change_id": 0})


def webhook_of(partner, lock=False):
    webhooks = Webhook.objects.select_for_update() if lock else Webhook.objects
    webhook = webhooks.filter(partner=partner).first()
    if webhook is None:
        raise Refusal("This partner has no webhook yet: set one first.", status=409)
    return webhook


def rotate(webhook, secret, *, url=None, overlap_hours=24):
    """A new signing secret; the old one keeps signing for the overlap, unless it can no longer be read (its
    encryption key is gone), in which case it is dropped."""
    try:
        push.unseal(webhook.secret)
        previous = webhook.secret
    except ValueError:
        previous = ""
    webhook.previous_secret, webhook.secret = previous, push.seal(secret)
    webhook.previous_until = timezone.now() + timedelta(hours=overlap_hours)
    webhook.url = url or webhook.url
    webhook.save(update_fields=["previous_secret", "secret", "previous_until", "url"])


@transaction.atomic
def rotate_webhook_secret(partner, *, by):
    """A new signing secret; both are sent for 24 hours so the partner can switch without a gap."""
    secret = push.new_secret()
    rotate(webhook_of(partner, lock=True), secret)
    record("partner.webhook_rotated", actor=by, target=partner)
    return secret


@transaction.atomic
def pause_push(partner, *, by):
    webhook_of(partner, lock=True)
    Webhook.objects.filter(partner=partner).update(paused=True)
    record("partner.push_paused", actor=by, target=partner)


@transaction.atomic
def resume_push(partner, *, by):
    """Unpause, and re-drive parked batches from the start of their schedule; the partner is healthy again."""
    webhook = webhook_of(partner, lock=True)
    parked = partner.deliveries.filter(state=Delivery.State.PARKED).update(
        state=Delivery.State.PENDING, attempts=0, due_at=timezone.now())
    webhook.paused, webhook.degraded_at = False, None
    webhook.save(update_fields=["paused", "degraded_at"])
    record("partner.push_resumed", actor=by, target=partner, details={"parked": parked})
    transaction.on_commit(lambda: tasks.enqueue(tasks.push_partner, partner.pk))
    return parked


def test_delivered(partner):
    """The partner's webhook has answered a test event 2xx: its push works (going live needs it)."""
    return DeliveryAttempt.objects.filter(delivery__partner=partner, delivery__state=Delivery.State.TEST,
                                          status_code__gte=200, status_code__lt=300).exists()


def send_test_event(partner, *, by):
    """POST a signed test event to the webhook now, out of the batches' order (it carries no hashes), and
    return its attempt for the page to show."""
    webhook = webhook_of(partner)
    message_id = push.new_message_id()
    delivery = Delivery.objects.create(partner=partner, message_id=message_id, event="webhook.test",
                                       state=Delivery.State.TEST,
                                       body=push.body_of("webhook.test", {"partner": partner.slug}, message_id))
    push.send(delivery, webhook)
    record("partner.webhook_tested", actor=by, target=partner)
    return delivery.attempts_made.first()
