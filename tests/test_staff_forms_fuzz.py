"""Odd strings (NUL, lone surrogates, control characters, right-to-left marks, very long text) typed or forged into
the staff forms by a signed-in caseworker: never a 5xx, and nothing lost. Whatever the server answers 2xx/3xx to
is stored as it arrived (less the outer whitespace the forms trim); whatever it refuses (4xx, with a message)
changes nothing.

A browser sends UTF-8, so a lone surrogate can only arrive as broken bytes, which Django decodes as U+FFFD;
`arrived` is the text the server sees."""

from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from audit.models import AuditEvent, AuditNote
from cases import actions
from cases.models import Case, CaseEvidence, CaseNote, Contact, Referral
from tests.calls import open_case
from tests.conftest import make_staff

pytestmark = pytest.mark.slow

SPECIAL = ["\x00", "a\x00b", "\ud800", "x\udfffy", "\u202e\u200f", "\x1b[31m", "\r\n\t\x0b\x0c", "\ufeff", "𝔘ñíçødé",
           "<script>alert(1)</script>", "%00", "'; DROP TABLE cases_case; --", " ", ""]
ODD = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(st.characters(exclude_categories=()), max_size=40),  # any code point, surrogates and controls too
    st.builds(lambda char, n: char * n, st.characters(exclude_categories=()), st.integers(190, 4100)),
)
FUZZ = settings(max_examples=25, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def arrived(text):
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def send(client, url, data, method="post"):
    """The form as a browser would send it, but byte for byte what the string holds (surrogates as broken UTF-8)."""
    body = urlencode(data, encoding="utf-8", errors="surrogatepass")
    if method == "get":
        return client.get(f"{url}?{body}")
    return client.post(url, body, content_type="application/x-www-form-urlencoded")


def answered(response):
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert response.content.strip(), "a refusal without a message"
        return False
    return True


@pytest.fixture
def casework(db):
    caseworker = make_staff("casey@helpline.test", "caseworker")
    client = Client(raise_request_exception=False)
    client.force_login(caseworker, backend="django.contrib.auth.backends.ModelBackend")
    return client, caseworker, open_case(caseworker)


@pytest.fixture
def colleague(db):
    return make_staff("robin@helpline.test", "caseworker")


@FUZZ
@given(text=ODD)
@example(text="a\x00b").via("NUL")
@example(text="x\ud800").via("lone surrogate")
@example(text="n" * 4001).via("over the limit")
def test_notes(casework, text):
    client, _caseworker, case = casework
    before = CaseNote.objects.count()
    if answered(send(client, reverse("case_note", args=[case.reference]), {"text": text})):
        assert CaseNote.objects.latest("id").text == arrived(text).strip() != ""
    else:
        assert CaseNote.objects.count() == before


@FUZZ
@given(note=ODD)
@example(note="done\x00").via("NUL")
def test_move_notes(casework, note):
    client, caseworker, case = casework
    before = CaseNote.objects.count()
    closed = answered(send(client, reverse("case_move", args=[case.reference]),
                           {"move": "close", "reason": "other", "note": note, "confirm": "yes"}))
    if closed:
        assert Case.objects.get(pk=case.pk).status == Case.Status.CLOSED
        kept = CaseNote.objects.filter(pk__gt=0).order_by("id")[before:]
        assert [n.text for n in kept] == ([arrived(note).strip()] if arrived(note).strip() else [])
        actions.move_case(case, "reopen", by=caseworker, reason="caller_returned")
    else:
        assert Case.objects.get(pk=case.pk).status == Case.Status.OPEN and CaseNote.objects.count() == before


@FUZZ
@given(outcome=ODD, to=st.sampled_from(["police", "legal", "x\x00", "\ud800"]))
@example(outcome="ref\x00", to="police").via("NUL")
def test_referral_outcomes(casework, outcome, to):
    client, _caseworker, case = casework
    before = list(Referral.objects.filter(case=case).values_list("to", "status", "outcome"))
    if answered(send(client, reverse("case_referral", args=[case.reference]),
                     {"to": to, "status": "made", "outcome": outcome})):
        assert Referral.objects.get(case=case, to=to).outcome == arrived(outcome).strip()
    else:
        assert list(Referral.objects.filter(case=case).values_list("to", "status", "outcome")) == before


@FUZZ
@given(note=ODD, state=st.sampled_from(["done", "not_applicable", "\x00", "done\ud800"]))
@example(note="seen\x00", state="done").via("NUL")
def test_checklist_notes(casework, note, state):
    client, _caseworker, case = casework
    line = case.evidence.first()
    before = list(CaseEvidence.objects.filter(case=case).values_list("state", "note"))
    if answered(send(client, reverse("case_checklist", args=[case.reference]),
                     {f"state-{line.pk}": state, f"note-{line.pk}": note})):
        line.refresh_from_db()
        assert (line.state, line.note) == (state, arrived(note).strip())
    else:
        assert list(CaseEvidence.objects.filter(case=case).values_list("state", "note")) == before


@FUZZ
@given(typed=ODD, status=ODD, opened_from=ODD)
@example(typed="AB\x00", status="", opened_from="").via("NUL in the reference")
def test_reference_search_and_filters(casework, typed, status, opened_from):
    client, _caseworker, case = casework
    url = reverse("case_list")
    answered(send(client, url, {"reference": typed}, method="get"))
    answered(send(client, url, {"status": status, "opened_from": opened_from}, method="get"))
    assert answered(send(client, url, {"reference": case.display_reference}, method="get"))


@FUZZ
@given(channel=ODD, language=ODD, answer=ODD, abuse_type=ODD)
@example(channel="phone\x00", language="en-gb", answer="yes", abuse_type="shared").via("NUL")
def test_contact_forms(casework, channel, language, answer, abuse_type):
    client, _caseworker, _case = casework
    before = Contact.objects.count()
    created = answered(send(client, reverse("contact_new"), {
        "channel": channel, "language": language, "caller": "subject", "in_content": answer,
        "adult_in_content": "yes", "intimate": "yes", "has_files": "yes", "abuse_type": abuse_type}))
    assert Contact.objects.count() == before + created
    if created:
        contact = Contact.objects.latest("id")
        assert (contact.channel, contact.language, contact.abuse_type) == (channel, language, abuse_type)


@FUZZ
@given(note=ODD, reason=st.sampled_from(["covering", "other", "x\x00", "\udfff"]))
@example(note="off sick\x00", reason="covering").via("NUL")
def test_reasons_for_opening_another_case(casework, colleague, note, reason):
    client, _caseworker, _case = casework
    colleague_case = open_case(colleague)  # a new one each time: a grant holds for its case
    before = AuditEvent.objects.filter(action="case.opened_by_reference").count()
    opened = answered(send(client, reverse("case_open_by_reference", args=[colleague_case.reference]),
                           {"reason": reason, "note": note}))
    grants = AuditEvent.objects.filter(action="case.opened_by_reference")
    assert grants.count() == before + opened
    if opened:
        grant = grants.latest("id")
        kept = AuditNote.objects.get(pk=grant.note_id).text if grant.note_id else ""
        assert (grant.details["reason"], kept) == (reason, arrived(note).strip())
