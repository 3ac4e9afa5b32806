"""One acknowledgement per withdrawal, whichever way it came: a Withdrawn report through StopNCII's SubmitFeedback,
the native acknowledgements endpoint (partners.outcomes.acknowledge_withdrawal writes all of them)."""

import json

from django.test import Client
from django.urls import reverse

from cases import actions as cases
from hashing.models import BankHash
from partners import onboarding
from partners.models import Outcome
from tests.calls import issue_code, open_case, submit, video
from tests.helpers import live_partner

ACTOR = {"actor_label": "test"}


def test_a_withdrawal_reported_through_stopncii_and_acknowledged_natively_is_one_acknowledgement(caseworker):
    partner = live_partner("clipstream")
    key, secret = onboarding.issue_key(partner, scopes=["fetch", "feedback"], **ACTOR)
    case = open_case(caseworker)
    submit(issue_code(case, caseworker), [video(1)])
    cases.withdraw_case(case)
    md5 = video(1)["md5"]
    withdrawn = BankHash.objects.get(signal_type="md5", value=md5)

    def report(value, tags):
        body = {"count": 1, "hashFeedbacks": [{"hashValue": md5, "feedbackValue": value, "tags": tags}]}
        return Client().post(reverse("api:stopncii_submit_feedback"), json.dumps(body),
                             content_type="application/json", HTTP_OCP_APIM_SUBSCRIPTION_KEY=key.public_id,
                             HTTP_X_FUNCTIONS_KEY=secret).json()

    def acknowledge():
        body = {"acknowledgements": [{"signal_type": "md5", "value": md5}]}
        return Client().post(reverse("api:acknowledgements"), json.dumps(body), content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{secret}").json()

    assert report("Withdrawn", ["removed-everywhere", "a-tag"]) == {"count": 1}
    assert report("Withdrawn", ["another-tag"]) == {"count": 0}  # the same withdrawal: nothing new
    assert acknowledge() == {"recorded": 0, "duplicates": 1}
    assert report("Deleted", []) == {"count": 1}  # Deleted is its own acknowledgement of the same withdrawal
    assert report("Deleted", []) == {"count": 0}
    rows = list(Outcome.objects.filter(partner=partner).order_by("value").values_list(
        "value", "acted_at", "reported_acted_at", "tags", "via", "signal_type"))
    assert rows == [("Deleted", withdrawn.changed, None, [], "stopncii", "md5"),
                    ("Withdrawn", withdrawn.changed, None, ["a-tag", "removed-everywhere"], "stopncii", "md5")]
