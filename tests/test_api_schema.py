"""The partner API describes itself: every route of the "api" namespace is in the OpenAPI schema, the docs
page (served by the portal, no CDN) shows every operation, and every record and page the feeds serve (native,
StopNCII, their sandboxes, pushed batches) has exactly the fields the schema describes for it."""

import json
import re

from django.test import Client
from django.urls import get_resolver, reverse

from cases import actions as cases
from partners import onboarding, push
from partners.models import Webhook
from partners.openapi import SCHEMA
from tests.calls import image, issue_code, open_case, submit, video
from tests.conftest import make_staff
from tests.helpers import ACTOR, live_partner, wait_for_the_stopncii_horizon

SELF_DESCRIBING = {"api:schema", "api:docs", "api:not_found"}  # not_found: the catch-all 404


def api_routes():
    resolver = get_resolver()
    prefix, api = next((p, r) for p, r in ((str(e.pattern), e) for e in resolver.url_patterns)
                       if getattr(r, "namespace", None) == "api")
    return {f"api:{entry.name}": "/" + prefix + re.sub(r"<\w+:(\w+)>", r"{\1}", str(entry.pattern))
            for entry in api.url_patterns}


def test_every_api_route_is_described(db):
    routes = api_routes()
    described = set(SCHEMA["paths"])
    missing = {name: path for name, path in routes.items() if name not in SELF_DESCRIBING and path not in described}
    assert missing == {}
    assert described <= set(routes.values())  # and nothing described that is not there


def test_schema_and_docs_are_served_without_a_login(db):
    schema = Client().get(reverse("api:schema"))
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    docs = Client().get(reverse("api:docs"))
    page = docs.content.decode()
    assert docs.status_code == 200 and "cdn" not in page.lower() and "<script" not in page
    for path, methods in SCHEMA["paths"].items():
        for method in methods:
            assert f"{method.upper()} {path}" in page


def described(name):
    """The fields the schema gives component `name`: (its properties, the ones it requires)."""
    schema = SCHEMA["components"]["schemas"][name]
    return list(schema["properties"]), schema["required"]


def assert_described(name, served):
    """Each served object has exactly the described fields, all required, in the described order."""
    properties, required = described(name)
    assert served, f"nothing served to hold against {name}"
    for one in served:
        assert list(one) == properties == required, name


def test_what_the_feeds_serve_is_what_the_schema_describes(transactional_db, push_settings, push_by_hand):
    caseworker = make_staff("casey@helpline.test", "caseworker")
    partner = live_partner()
    key, secret = onboarding.issue_key(partner, scopes=["fetch", "feedback"], **ACTOR)
    native = {"HTTP_AUTHORIZATION": f"Bearer {key.public_id}.{secret}"}
    stopncii = {"HTTP_OCP_APIM_SUBSCRIPTION_KEY": key.public_id, "HTTP_X_FUNCTIONS_KEY": secret}
    case = open_case(caseworker)
    submit(issue_code(case, caseworker), [image(1), video(2)])
    Client().post(reverse("api:feedback"), json.dumps({"feedback": [
        {"signal_type": "pdq", "value": image(1)["pdq"], "outcome": "Removed"}]}),
        content_type="application/json", **native)  # so CSPFeedbacks holds one
    webhook = Webhook.objects.create(partner=partner, url="https://partner.example/hook",
                                     secret=push.seal(push.new_secret()))
    wait_for_the_stopncii_horizon()
    first_page = Client().get(reverse("api:hashes"), **native).json()
    fetched = [Client().get(reverse("api:stopncii_fetch_hashes"), {"startTimestamp": 0}, **stopncii).json()]
    push.make_batches(webhook)
    cases.withdraw_case(case)  # withdrawals too
    wait_for_the_stopncii_horizon()

    pages = [first_page, Client().get(reverse("api:hashes"), {"cursor": first_page["cursor"]}, **native).json(),
             Client().get(reverse("api:sandbox_hashes"), **native).json()]
    assert_described("HashPage", pages)
    push.make_batches(webhook)
    batches = [json.loads(delivery.body)["data"]["records"] for delivery in partner.deliveries.all()]
    served = [record for page in pages for record in page["records"]] + [r for batch in batches for r in batch]
    assert {r["status"] for r in served} == {"active", "withdrawn"} and len(batches) == 2
    assert_described("HashRecord", served)

    fetched += [Client().get(reverse(name), {"startTimestamp": 0}, **stopncii).json()
                for name in ("api:stopncii_fetch_hashes", "api:sandbox_fetch_hashes")]
    assert_described("StopNCIIPage", fetched)
    records = [record for page in fetched for record in page["hashRecords"]]
    assert_described("StopNCIIRecord", records)
    assert_described("StopNCIIFeedback", [feedback for record in records for feedback in record["CSPFeedbacks"]])


def test_the_schema_examples_are_records_as_served():
    for name, schema in SCHEMA["components"]["schemas"].items():
        if "example" in schema:
            assert list(schema["example"]) == list(schema["properties"]), name
