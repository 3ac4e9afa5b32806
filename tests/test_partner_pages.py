"""Partner managers' pages: the pipeline, a partner's checklist and moves, keys shown once, revoked, rotated."""

import re

from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from partners import sandbox
from partners.models import ApiKey, Partner


def test_a_partner_manager_onboards_a_partner_and_manages_its_keys(login_as, partner_manager):
    client = login_as(partner_manager)
    created = client.post(reverse("partner_list"), {"name": "Photogram", "slug": "photogram", "delivery": "pull",
                                                    "signal_types": ["pdq", "md5"]})
    assert created["Location"] == reverse("partner_detail", args=["photogram"])
    partner = Partner.objects.get(slug="photogram")
    assert partner.signal_types == ["pdq", "md5"] and partner.state == "prospect"
    for move in ("start_vetting", "sign_agreement", "start_integration"):
        client.post(reverse("partner_move", args=["photogram"]), {"move": move})
    early = client.post(reverse("partner_move", args=["photogram"]), {"move": "go_live"})
    assert early.status_code == 409 and "checklist is complete" in early.content.decode()
    client.post(reverse("partner_checklist", args=["photogram"]), {"agreement_signed": "on", "security_review": "on"})
    client.post(reverse("partner_contact_add", args=["photogram"]), {"name": "Ada", "email": "ada@photogram.example"})
    sandbox.record_feedback(partner, [{"signal_type": "md5", "value": photo["md5"], "outcome": "Blocked", "tags": []}
                                      for photo in sandbox.photos()], via="native")

    issued = client.post(reverse("partner_key_issue", args=["photogram"]), {"scopes": ["fetch"], "label": "prod"},
                         follow=True)
    assert issued["Cache-Control"] == "no-store"
    page = issued.content.decode()
    secret = re.search(r'id="new-key-secret">([^<]+)<', page).group(1)
    key = ApiKey.objects.get()
    assert key.matches(secret)
    assert secret not in client.get(reverse("partner_detail", args=["photogram"])).content.decode()  # once only
    client.post(reverse("partner_move", args=["photogram"]), {"move": "go_live"})
    assert Partner.objects.get(pk=partner.pk).state == "live"
    board = client.get(reverse("partner_list")).content.decode()
    assert "Photogram" in board
    rotated = client.post(reverse("partner_key_rotate", args=["photogram", key.pk]), follow=True).content.decode()
    new_secret = re.search(r'id="new-key-secret">([^<]+)<', rotated).group(1)
    assert ApiKey.objects.get(replaced_by__isnull=True, revoked_at=None, pk__gt=key.pk).matches(new_secret)
    client.post(reverse("partner_key_revoke", args=["photogram", key.pk]))
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    bad = client.post(reverse("partner_key_issue", args=["photogram"]), {"scopes": []})
    assert bad.status_code == 400 and "at least one scope" in bad.content.decode()
    actions = set(AuditEvent.objects.filter(actor=partner_manager).values_list("action", flat=True))
    assert {"partner.created", "partner.go_live", "partner.checklist", "partner.key_issued", "partner.key_rotated",
            "partner.key_revoked"} <= actions


def test_caseworkers_cannot_touch_partners(login_as, caseworker):
    Partner.objects.create(name="P", slug="p")
    client = login_as(caseworker)
    assert client.get(reverse("partner_detail", args=["p"])).status_code == 403
    assert client.post(reverse("partner_move", args=["p"]), {"move": "start_vetting"}).status_code == 403
    assert Partner.objects.get(slug="p").state == "prospect"


def test_the_partner_page_keeps_contacts_and_shows_the_feed_position(transactional_db, login_as, partner_manager,
                                                                      caseworker):
    from partners import onboarding
    from tests.calls import image, issue_code, open_case, submit
    from tests.helpers import ACTOR, live_partner

    partner = live_partner()
    client = login_as(partner_manager)
    added = client.post(reverse("partner_contact_add", args=[partner.slug]),
                        {"name": "Ada Ops", "email": "ada@tiktak.example", "role": "technical contact"})
    assert added.status_code == 302
    bad = client.post(reverse("partner_contact_add", args=[partner.slug]), {"name": "No Mail", "email": "nope"})
    assert bad.status_code == 400 and "valid email" in bad.content.decode()
    page = client.get(reverse("partner_detail", args=[partner.slug])).content.decode()
    assert "ada@tiktak.example" in page and "Has not fetched yet." in page
    contact = partner.contacts.get()
    client.post(reverse("partner_contact_remove", args=[partner.slug, contact.pk]))
    assert not partner.contacts.exists()
    assert {"partner.contact_added", "partner.contact_removed"} <= set(
        AuditEvent.objects.filter(actor=partner_manager).values_list("action", flat=True))

    key, secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key.public_id}.{secret}"}
    submit(issue_code(open_case(caseworker), caseworker), [image(1)])  # three hashes: pdq, phash, md5
    first = Client().get(reverse("api:hashes"), {"limit": 1}, **auth).json()
    assert len(first["records"]) == 1
    behind = re.search(r'data-field="behind">(\d+)<', client.get(reverse("partner_detail", args=[partner.slug]))
                       .content.decode())
    assert behind and int(behind.group(1)) == 2
    from partners.models import Handover

    Client().get(reverse("api:hashes"), {"cursor": first["cursor"]}, **auth)
    Client().get(reverse("api:hashes"), {"cursor": first["cursor"]}, **auth)  # the same page again
    empty = Client().get(reverse("api:hashes"), {"cursor": Client().get(reverse("api:hashes"), {
        "cursor": first["cursor"]}, **auth).json()["cursor"]}, **auth)
    assert empty.json()["records"] == []
    assert Handover.objects.filter(partner=partner, route="native").count() == 4  # one per page that moved


def test_a_partner_manager_sets_up_push_tests_pauses_and_rotates(login_as, partner_manager, push_settings, receiver):
    from partners.models import Webhook
    from tests.helpers import live_partner

    partner = live_partner()
    partner_server = receiver()
    client = login_as(partner_manager)
    refused = client.post(reverse("partner_webhook_set", args=[partner.slug]), {"url": "https://10.0.0.8/hook"})
    assert refused.status_code == 400 and "non-public" in refused.content.decode()
    saved = client.post(reverse("partner_webhook_set", args=[partner.slug]), {"url": partner_server.url},
                        follow=True)
    secret = re.search(r'id="new-webhook-secret">([^<]+)<', saved.content.decode()).group(1)
    assert secret.startswith("whsec_") and saved["Cache-Control"] == "no-store"
    assert secret not in client.get(reverse("partner_detail", args=[partner.slug])).content.decode()  # once only

    tested = client.post(reverse("partner_webhook_test", args=[partner.slug]), follow=True).content.decode()
    assert "Test event:\n    answered 200" in tested
    assert "Test event:" not in client.get(reverse("partner_detail", args=[partner.slug])).content.decode()
    headers, body = partner_server.calls[-1]
    from standardwebhooks.webhooks import Webhook as Verifier

    assert Verifier(secret).verify(body, headers)["type"] == "webhook.test"

    client.post(reverse("partner_push_pause", args=[partner.slug]))
    assert Webhook.objects.get(partner=partner).paused
    page = client.get(reverse("partner_detail", args=[partner.slug])).content.decode()
    assert 'data-field="push-state">paused<' in page and "webhook.test" in page  # the delivery log
    client.post(reverse("partner_push_resume", args=[partner.slug]))
    assert not Webhook.objects.get(partner=partner).paused
    rotated = client.post(reverse("partner_webhook_rotate", args=[partner.slug]), follow=True).content.decode()
    new_secret = re.search(r'id="new-webhook-secret">([^<]+)<', rotated).group(1)
    client.post(reverse("partner_webhook_test", args=[partner.slug]))
    headers, body = partner_server.calls[-1]
    assert Verifier(secret).verify(body, headers) and Verifier(new_secret).verify(body, headers)  # the overlap
    assert {"partner.webhook_set", "partner.webhook_tested", "partner.push_paused", "partner.push_resumed",
            "partner.webhook_rotated"} <= set(AuditEvent.objects.filter(actor=partner_manager)
                                               .values_list("action", flat=True))
