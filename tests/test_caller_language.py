"""Which language a caller's page is in: the browser's preference on a first visit, the caller's own pick for the
rest of the visit (in the session: the page stores nothing), the language a caseworker picked for a link; only the
languages the helpline offers; right to left for Arabic and Urdu."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from cases import actions
from cases.models import HashingLink
from tests.calls import issue_code, open_case
from tests.conftest import signed_in_client


def html_tag(response):
    return re.search(r"<html[^>]*>", response.content.decode()).group(0)


@pytest.mark.parametrize("header, language", [
    ("ar-EG,ar;q=0.9,en;q=0.5", "ar"),
    ("pt-BR,pt;q=0.9", "pt"),
    ("en-US,en;q=0.9", "en-gb"),
    ("zz, xx;q=0.8, uk;q=0.5", "uk"),
    ("zz", "en-gb"),
    ("", "en-gb"),
])
def test_a_first_visit_follows_the_browsers_preference(db, header, language):
    response = Client(headers={"Accept-Language": header}).get(reverse("caller:status"))
    assert response["Content-Language"] == language
    assert f'lang="{language}"' in html_tag(response)
    assert "Accept-Language" in response["Vary"]


def test_arabic_and_urdu_pages_are_right_to_left_and_the_others_left_to_right(db):
    for code, direction in (("ar", "rtl"), ("ur", "rtl"), ("ko", "ltr"), ("cy", "ltr")):
        tag = html_tag(Client().get(reverse("caller:status") + f"?lang={code}"))
        assert f'lang="{code}"' in tag and f'dir="{direction}"' in tag, (code, tag)


def test_the_callers_pick_outlasts_the_browsers_preference_for_the_visit(db):
    client = Client(headers={"Accept-Language": "de"})
    assert client.get(reverse("caller:start"))["Content-Language"] == "de"
    assert client.get(reverse("caller:start") + "?lang=tr")["Content-Language"] == "tr"
    assert client.get(reverse("caller:status"))["Content-Language"] == "tr"
    client.post(reverse("caller:leave"))  # the quick exit forgets it
    assert client.get(reverse("caller:status"))["Content-Language"] == "de"


def test_every_offered_language_is_in_the_switch_named_in_itself(db):
    page = Client().get(reverse("caller:start") + "?lang=ar").content.decode()
    for code, name in (("en-gb", "English"), ("es", "Español"), ("ur", "اردو"), ("hi", "हिन्दी"), ("cy", "Cymraeg")):
        assert f'href="?lang={code}" lang="{code}" hreflang="{code}">{name}</a>' in page, code
    assert '<span aria-current="true" lang="ar">العربية</span>' in page


def test_a_language_the_helpline_does_not_offer_is_neither_listed_nor_used(db, settings):
    settings.CALLER_LANGUAGES = ["en-gb", "es"]
    client = Client(headers={"Accept-Language": "cy"})
    response = client.get(reverse("caller:start") + "?lang=cy")
    assert response["Content-Language"] == "en-gb"
    assert "Cymraeg" not in response.content.decode()


def test_the_link_opens_in_the_language_the_caseworker_picked(db, caseworker):
    case = open_case(caseworker)
    _link, code = actions.issue_link(case, by=caseworker, language="ur")
    client = Client(headers={"Accept-Language": "en-GB"})
    response = client.get(reverse("caller:hash", args=[code]))
    assert response["Content-Language"] == "ur" and 'dir="rtl"' in html_tag(response)
    assert client.get(reverse("caller:status"))["Content-Language"] == "ur"  # kept for the visit
    # A caller who picked their own language before opening the link keeps it.
    _link, code = actions.issue_link(case, by=caseworker, language="ur")
    chooser = Client()
    chooser.get(reverse("caller:enter_code") + "?lang=pl")
    assert chooser.get(reverse("caller:hash", args=[code]))["Content-Language"] == "pl"


def test_the_caseworker_picks_the_links_language_and_sees_which_are_not_yet_reviewed(db, caseworker, settings):
    case = open_case(caseworker, )
    staff = signed_in_client(caseworker)
    page = staff.get(reverse("case_detail", args=[case.reference])).content.decode()
    assert 'name="language"' in page
    assert "Cymraeg (Welsh): not yet reviewed by a native speaker" in page
    staff.post(reverse("case_issue_link", args=[case.reference]), {"language": "ko"})
    assert HashingLink.objects.get(case=case).language == "ko"
    answer = staff.post(reverse("case_issue_link", args=[case.reference]), {"language": "xx"})
    assert answer.status_code == 400 and HashingLink.objects.filter(case=case).count() == 1


def test_the_consent_version_recorded_is_that_of_the_language_shown(db, caseworker):
    from cases.consent import consent_version
    from tests.calls import image, submit

    case = open_case(caseworker)
    page = Client().get(reverse("caller:hash", args=[issue_code(case, caseworker)]) + "?lang=fr").content.decode()
    assert f'data-consent-version="{consent_version("fr")}"' in page
    code = issue_code(case, caseworker)
    submit(code, [image(7)], consent={"version": consent_version("fr"), "confirmed": ["in_images", "adult",
                                                                                      "share_hashes", "withdraw"]})
    case.refresh_from_db()
    assert case.consent_version == consent_version("fr") != consent_version("en-gb")
    refused = submit(issue_code(case, caseworker), [image(8)],
                     consent={"version": "2020-01-01", "confirmed": ["in_images", "adult", "share_hashes", "withdraw"]})
    assert refused.status_code == 400
