"""schemathesis against the partner API's OpenAPI schema, with a valid key: whatever it sends, no 5xx and no
response that breaks the schema (status codes, content types, response bodies)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from partners import onboarding
from partners.openapi import SCHEMA
from tests.calls import image, issue_code, open_case, submit, video
from tests.conftest import make_staff
from tests.helpers import ACTOR, live_partner

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def key_headers(transactional_db):
    caseworker = make_staff("casey@helpline.test", "caseworker")
    submit(issue_code(open_case(caseworker), caseworker), [image(1), video(2)])
    key, secret = onboarding.issue_key(live_partner(), scopes=["fetch", "feedback", "submit"], **ACTOR)
    # Both ways of sending the key, so every operation is tried authenticated.
    return {"Authorization": f"Bearer {key.public_id}.{secret}", "Ocp-Apim-Subscription-Key": key.public_id,
            "x-functions-key": secret}


schema = schemathesis.openapi.from_dict(SCHEMA)
# No 5xx, and every response as the schema says: status, content type, body. (Not "reject anything the schema
# does not name": an extra query parameter is ignored, as most APIs do.)
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_schema(case, live_server, key_headers, settings):
    settings.PARTNER_API_REQUESTS_PER_MINUTE = 100_000
    response = case.call_and_validate(base_url=live_server.url, headers=key_headers, checks=CHECKS)
    # call_and_validate raises on any failed check; what it lets through is a documented answer, or 405 for a
    # method the path does not have.
    assert response.status_code < 500
    operation = SCHEMA["paths"][case.path].get(case.method.lower())
    assert str(response.status_code) in operation["responses"] if operation else response.status_code == 405
