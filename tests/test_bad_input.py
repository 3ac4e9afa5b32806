"""Bad input is a clear 4xx with a message, never a 500: odd JSON types in the partner API, and a NUL byte or a lone
surrogate anywhere (path, query string, form or JSON body, cookie), which one middleware refuses for the whole
site (core.middleware.RefuseBrokenTextMiddleware)."""

import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import Case, CaseEvent, CaseEvidence, CaseNote, Referral
from partners import onboarding
from tests.calls import image, issue_code, open_case, payload
from tests.helpers import ACTOR, live_partner

NUL = "\x00"


@pytest.fixture
def api_headers(db):
    key, secret = onboarding.issue_key(live_partner(), scopes=["fetch", "feedback", "submit"], **ACTOR)
    return {"HTTP_AUTHORIZATION": f"Bearer {key.public_id}.{secret}"}


def post_json(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


@pytest.mark.parametrize("outcome", [[], {}, ["Blocked"], {"value": "Blocked"}, 7, None])
def test_a_contribution_outcome_of_the_wrong_type_is_a_json_400(api_headers, outcome):
    response = post_json(Client(), reverse("api:contributions"),
                         {"contributions": [{"signal_type": "md5", "value": "ab" * 16, "outcome": outcome}]},
                         **api_headers)
    assert response.status_code == 400
    assert response.json() == {"error": response.json()["error"], "field": "contributions[0].outcome"}
    assert "outcome must be one of" in response.json()["error"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])  # json.loads reads UTF-16 and UTF-32 bodies too
def test_a_nul_in_a_partner_api_body_is_a_json_400(api_headers, encoding):
    body = json.dumps({"contributions": [{"signal_type": "md5", "value": "ab" * 16, "tags": [f"found{NUL}"]}]})
    response = Client().post(reverse("api:contributions"), body.encode(encoding), content_type="application/json",
                             **api_headers)
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "NUL" in response.json()["error"] and response.json()["field"] == "contributions[0].tags[0]"


def test_a_nul_in_an_api_path_or_query_is_a_json_400(api_headers):
    for url in ("/api/v1/hash%00es", reverse("api:hashes") + "?cursor=a%00b"):
        response = Client().get(url, **api_headers)
        assert response.status_code == 400 and "NUL" in response.json()["error"], url


def test_a_nul_in_the_callers_submission_id_is_a_json_400(caseworker):
    case = open_case(caseworker)
    code = issue_code(case, caseworker)
    response = post_json(Client(), reverse("caller:submit", args=[code]),
                         payload([image(1)], submission_id=f"abcdefgh{NUL}ijkl"))
    assert response.status_code == 400 and "NUL" in response.json()["error"]
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN and not case.items.exists()


def test_a_literal_backslash_u0000_is_text_not_a_nul(caseworker):
    """"\\\\u0000" in JSON is the six characters \\u0000, which a submission id may hold."""
    case = open_case(caseworker)
    body = json.dumps(payload([image(1)], submission_id="abcdefgh-x")).replace("-x", "\\\\u0000")
    response = Client().post(reverse("caller:submit", args=[issue_code(case, caseworker)]), body,
                             content_type="application/json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("url", [
    "/cases/?reference=AB%00",
    "/cases/?reference%00=AB",
    "/cases/AB%00CD/",
    "/cases/AB%00CD/live.json",
])
def test_a_nul_in_a_staff_path_or_query_is_a_400_with_a_message(login_as, caseworker, url):
    response = login_as(caseworker).get(url)
    assert response.status_code == 400 and "NUL" in response.content.decode()


def test_a_nul_in_a_cookie_is_a_400(db):
    client = Client()
    client.cookies["sessionid"] = f"abcdefgh{NUL}"
    response = client.get(reverse("account_login"))
    assert response.status_code == 400 and "NUL" in response.content.decode()


@pytest.mark.parametrize(("name", "data"), [
    ("case_note", {"text": f"called back{NUL}"}),
    ("case_move", {"move": "close", "reason": "resolved", "note": f"done{NUL}"}),
    ("case_referral", {"to": "police", "status": "made", "outcome": f"crime ref{NUL}"}),
    ("case_checklist", "checklist"),
])
def test_a_nul_in_a_staff_form_is_a_400_and_changes_nothing(login_as, caseworker, name, data):
    case = open_case(caseworker)
    if data == "checklist":
        evidence = case.evidence.first()
        data = {f"state-{evidence.pk}": "done", f"note-{evidence.pk}": f"seen{NUL}"}
    events = CaseEvent.objects.count()
    # A dict: multipart, as a browser may send it.
    response = login_as(caseworker).post(reverse(name, args=[case.reference]), data)
    assert response.status_code == 400 and "NUL" in response.content.decode()
    assert CaseEvent.objects.count() == events and not CaseNote.objects.exists()
    assert Case.objects.get(pk=case.pk).status == Case.Status.OPEN
    assert not Referral.objects.filter(to="police").exists()
    assert not CaseEvidence.objects.filter(case=case).exclude(state="not_done").exists()


def test_a_nul_in_an_urlencoded_form_is_a_400(login_as, caseworker):
    case = open_case(caseworker)
    response = login_as(caseworker).post(reverse("case_note", args=[case.reference]), urlencode({"text": f"a{NUL}b"}),
                                         content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and not CaseNote.objects.exists()


@pytest.mark.parametrize("escape", ["\\ud800", "\\uDFFF", "\\u0000"])
def test_a_lone_surrogate_or_nul_escape_in_the_callers_submission_id_is_a_json_400(caseworker, escape):
    case = open_case(caseworker)
    body = json.dumps(payload([image(1)], submission_id="abcdefgh-x")).replace("-x", escape)
    response = Client().post(reverse("caller:submit", args=[issue_code(case, caseworker)]), body,
                             content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "submission_id"
    assert "lone UTF-16 surrogate" in response.json()["error"] and not case.items.exists()


def test_a_surrogate_pair_is_a_character_like_any_other(caseworker):
    case = open_case(caseworker)
    body = json.dumps(payload([image(1)], submission_id="abcdefgh-x")).replace("-x", "\\ud83d\\ude00")
    response = Client().post(reverse("caller:submit", args=[issue_code(case, caseworker)]), body,
                             content_type="application/json")
    assert response.status_code == 200, response.content


def test_a_form_to_the_partner_api_is_refused_unread_as_json(api_headers):
    response = Client().post(reverse("api:contributions"), {"contributions": "x\x00"}, **api_headers)
    assert response.status_code == 415 and "Send JSON" in response.json()["error"]
