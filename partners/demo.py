"""Demo partners (development only): one in every onboarding state, live partners with keys, and outcomes of
every value on the demo cases' shared hashes. Keys' secrets are not printed: issue one you can use with
`manage.py partner_key SLUG --scopes fetch,feedback`."""

import os
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from hashing.models import BankHash
from partners import handovers, onboarding, sandbox, webhooks
from partners.models import FeedPosition, Outcome, Partner

DEMO = {"actor_label": "command:seed_demo"}
DEMO_WEBHOOK = f"http://127.0.0.1:{os.environ.get('DEMO_RECEIVER_PORT', 8025)}/hook"
PATH = ["start_vetting", "sign_agreement", "start_integration", "go_live"]
PARTNERS = [
    ("Pinboard", "demo-pinboard", "prospect", 0),
    ("Clipstream", "demo-clipstream", "vetting", 1),
    ("Snapverse", "demo-snapverse", "agreement", 2),
    ("Fanpage", "demo-fanpage", "integration", 3),
    ("Photogram", "demo-photogram", "live", 4),
    ("Tiktak", "demo-tiktak", "live", 4),
    ("Seekr Search", "demo-seekr", "suspended", 4),
    ("Oldnet", "demo-oldnet", "offboarded", 4),
]


def seed():
    if Partner.objects.filter(slug__startswith="demo-").exists():
        return []
    made = {}
    for name, slug, state, steps in PARTNERS:
        partner = onboarding.create_partner(name=name, slug=slug, **DEMO)
        if steps >= 3:
            onboarding.set_checklist(partner, **DEMO, **{field: True for field, _label in Partner.CHECKLIST})
        if steps >= 4:
            ready_to_go_live(partner)
        elif state == "integration":
            onboarding.issue_key(partner, scopes=["fetch", "feedback"], label="demo", **DEMO)
        for move in PATH[:steps]:
            onboarding.move_partner(partner, move, **DEMO)
        if state == "suspended":
            onboarding.move_partner(partner, "suspend", **DEMO)
        elif state == "offboarded":
            onboarding.move_partner(partner, "offboard", **DEMO)
        made[slug] = partner
    # Outcomes of every value on the shared demo hashes, as if the live partners had reported them.
    shared = list(BankHash.objects.shareable().filter(signal_type="pdq").order_by("pk")[:2])
    now = timezone.now()
    values = [(made["demo-photogram"], Outcome.Value.PENDING_REVIEW), (made["demo-photogram"], Outcome.Value.REMOVED),
              (made["demo-tiktak"], Outcome.Value.BLOCKED), (made["demo-tiktak"], Outcome.Value.NOT_BLOCKED)]
    for n, bank_hash in enumerate(shared):
        for m, (partner, value) in enumerate(values):
            Outcome.objects.create(partner=partner, bank_hash=bank_hash, signal_type=bank_hash.signal_type,
                                   value=value, acted_at=now - timedelta(hours=10 * n + m), via="native")
    # Photogram also takes pushes, at the receiver `make run` starts (bin/demo_receiver.py), which verifies
    # signatures with the secret written here.
    if settings.WEBHOOK_ALLOW_LOOPBACK:
        secret = webhooks.set_webhook(Partner.objects.get(slug="demo-photogram"), DEMO_WEBHOOK, **DEMO)
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        (settings.DATA_DIR / "demo-webhook-secret").write_text(secret)
    # The partner in integration has tested matching in the sandbox.
    fanpage = made["demo-fanpage"]
    handovers.note_fetch(fanpage, FeedPosition.Route.SANDBOX)
    sandbox.record_feedback(fanpage, [
        {"signal_type": "pdq", "value": photo["pdq"], "outcome": Outcome.Value.BLOCKED, "tags": []}
        for photo in sandbox.photos()[:8]], via="native")
    return []


def ready_to_go_live(partner):
    """What going live needs, as a real partner would have it: a contact, a key, a report on every sandbox photo."""
    onboarding.add_contact(partner, name=f"{partner.name} trust and safety", role="technical contact",
                           email=f"trust-and-safety@{partner.slug}.example", **DEMO)
    onboarding.issue_key(partner, scopes=["fetch", "feedback"], label="demo", **DEMO)
    handovers.note_fetch(partner, FeedPosition.Route.SANDBOX)
    sandbox.record_feedback(partner, [{"signal_type": "pdq", "value": photo["pdq"], "outcome": Outcome.Value.BLOCKED,
                                       "tags": []} for photo in sandbox.photos()], via="native")
