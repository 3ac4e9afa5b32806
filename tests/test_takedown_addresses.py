"""Where the images are: a caseworker pastes web addresses as they came; each is normalised, repeats within the
case merged, each filed under its site by registrable domain; lines that are not addresses come back with a
reason each and cost none of the valid ones. Who may see them, and that each view is audited like the case."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from cases import actions as case_actions
from takedowns.models import Address, Site
from takedowns.normalise import NotAnAddress, normalise, parse
from tests.calls import open_case
from tests.conftest import make_staff
from tests.takedown_calls import DISTINCT, INVALID_LINES, PASTE, SITES, paste


@pytest.mark.parametrize(("line", "url", "site"), [
    ("HTTPS://WWW.Example.CO.UK:443/a/b?id=3#frag", "https://www.example.co.uk/a/b?id=3", "example.co.uk"),
    ("http://img.example.co.uk:80/x.jpg", "http://img.example.co.uk/x.jpg", "example.co.uk"),
    ("www.example.com/p", "https://www.example.com/p", "example.com"),
    ("example.com", "https://example.com/", "example.com"),
    ("example.com:8443/p", "https://example.com:8443/p", "example.com"),
    ("https://example.com/v?utm_source=x&id=7&fbclid=abc&gclid=1", "https://example.com/v?id=7", "example.com"),
    ("https://example.com/v?a=%2Fb&si=tracker", "https://example.com/v?a=%2Fb", "example.com"),
    ("https://user:secret@example.com/p", "https://example.com/p", "example.com"),
    ("  • <https://example.com/p>.  ", "https://example.com/p", "example.com"),
    ("12) “https://example.com/p”,", "https://example.com/p", "example.com"),
    ("http://bücher.de/bild.jpg", "http://xn--bcher-kva.de/bild.jpg", "xn--bcher-kva.de"),
    ("https://example.com/ä ö".replace(" ", ""), "https://example.com/%C3%A4%C3%B6", "example.com"),
    # The platform is the site, not each of its users' subdomains (ICANN suffixes only).
    ("https://someone.blogspot.com/2024/01/x.html", "https://someone.blogspot.com/2024/01/x.html", "blogspot.com"),
    ("https://a.b.github.io/p", "https://a.b.github.io/p", "github.io"),
    ("http://8.8.8.8:8080/x", "http://8.8.8.8:8080/x", "8.8.8.8"),
    ("https://[2001:4860::8888]/a", "https://[2001:4860::8888]/a", "2001:4860::8888"),
])
def test_addresses_are_normalised_and_filed_by_registrable_domain(line, url, site):
    assert normalise(line) == (url, site)


@pytest.mark.parametrize(("line", "why"), [
    ("see the pictures", "spaces"),
    ("mailto:someone@example.com", "only web addresses"),
    ("ftp://example.com/a.jpg", "only web addresses"),
    ("javascript:alert(1)", "only web addresses"),
    ("http://localhost/a", "not a website's name"),
    ("http://192.168.1.20/a", "private or local network"),
    ("http://127.0.0.1/a", "private or local network"),
    ("https://com/a", "not a website's name"),
    ("https://exa_mple.com/a", "not a website's name"),
    ("https://example.com:99999/a", "not a web address"),
    ("https://example.com/" + "a" * 2000, "longer than"),
])
def test_what_is_not_a_web_address_says_why(line, why):
    with pytest.raises(NotAnAddress, match=why):
        normalise(line)


def test_a_paste_keeps_the_valid_lines_merges_repeats_and_explains_the_rest():
    found, problems, repeats = parse("\n".join(PASTE))
    assert len(found) == DISTINCT and repeats == 3
    assert {number for number, _line, _why in problems} == INVALID_LINES
    assert {domain for _url, domain in found} == SITES


def test_pasting_on_the_page_files_every_valid_line_and_returns_the_others(login_as, caseworker):
    case = open_case(caseworker)
    client = login_as(caseworker)
    response = client.post(reverse("web_addresses_add", args=[case.reference]), {"addresses": "\n".join(PASTE)})
    assert response.status_code == 400  # some lines were refused: the page says which, and why
    page = response.content.decode()
    assert "Added 24 addresses; 3 repeats merged" in page
    for number in INVALID_LINES:
        assert f"Line {number}, " in page
    assert "private or local network address" in page and "only web addresses" in page
    # The refused lines are back in the box to be corrected; the saved ones are not.
    box = page.split('name="addresses"', 1)[1].split("</textarea>", 1)[0]
    assert "see the pics here!!" in box and "192.168.1.20" in box and "fotosite" not in box
    assert case.web_addresses.count() == DISTINCT
    assert set(Site.objects.values_list("domain", flat=True)) == SITES
    assert Site.objects.get(domain="example.org").name == "example.org"  # named by its domain until described
    assert case.web_addresses.filter(url="http://forum.example.org/thread/3").count() == 1

    # Pasting again merges with what the case holds; a fully valid paste goes back to the page.
    again = client.post(reverse("web_addresses_add", args=[case.reference]),
                        {"addresses": f"{PASTE[0]}\nhttps://tube.example.com/watch?v=ghi"})
    assert again.status_code == 302
    follow = client.get(again["Location"]).content.decode()
    assert "Added 1 address on 1 site; 1 repeat merged." in follow
    assert case.web_addresses.count() == DISTINCT + 1


def test_the_audit_log_counts_what_was_added_and_never_holds_an_address(login_as, caseworker):
    case = open_case(caseworker)
    login_as(caseworker).post(reverse("web_addresses_add", args=[case.reference]), {"addresses": "\n".join(PASTE)})
    (added,) = AuditEvent.objects.filter(action="case.web_addresses_added")
    assert added.details == {"added": DISTINCT, "merged": 3, "not_addresses": 3, "sites": 4}
    assert added.target_id == str(case.pk) and added.note is None
    everything = " ".join(str(e.details) for e in AuditEvent.objects.all())
    assert "example" not in everything


def test_the_addresses_page_is_the_cases_and_each_view_is_audited(login_as, caseworker):
    case = open_case(caseworker)
    paste(case, caseworker)
    url = reverse("case_web_addresses", args=[case.reference])
    page = login_as(caseworker).get(url)
    assert page.status_code == 200 and "https://www.fotosite.example.co.uk/album/1.jpg" in page.content.decode()
    assert AuditEvent.objects.filter(action="case.web_addresses_viewed", target_id=str(case.pk)).count() == 1

    # Not their case: only by its reference, with a reason (cases.access), and then each view says why.
    robin = make_staff("robin@helpline.test", "caseworker", name="Robin")
    other = login_as(robin)
    refused = other.get(url)
    assert refused.status_code == 403 and "fotosite" not in refused.content.decode()
    assert other.post(reverse("web_addresses_add", args=[case.reference]),
                      {"addresses": "https://example.com/x"}).status_code == 403
    other.post(reverse("case_open_by_reference", args=[case.reference]), {"reason": "covering"})
    assert other.get(url).status_code == 200
    seen = AuditEvent.objects.filter(action="case.web_addresses_viewed", actor=robin).get()
    assert seen.details == {"reason": "covering"}


def test_the_case_page_shows_counts_and_the_way_to_the_addresses(login_as, caseworker):
    case = open_case(caseworker)
    paste(case, caseworker)
    page = login_as(caseworker).get(reverse("case_detail", args=[case.reference])).content.decode()
    assert f"{DISTINCT} web addresses on 4 sites: 0 asked for, 0 removed" in page
    assert reverse("case_web_addresses", args=[case.reference]) in page
    assert "fotosite" not in page  # the addresses themselves only on their own screen


def test_a_withdrawn_case_takes_no_addresses(login_as, caseworker):
    case = open_case(caseworker)
    case_actions.move_case(case, "withdraw", by=caseworker, reason="caller_asked")
    response = login_as(caseworker).post(reverse("web_addresses_add", args=[case.reference]),
                                         {"addresses": "https://example.com/x"})
    assert response.status_code == 409 and "withdrawn" in response.content.decode()
    assert not Address.objects.exists()


@pytest.mark.parametrize(("text", "message"), [
    ("", "This field is required"),
    ("\n \n", "This field is required"),
    ("\u200b", "Line 1, "),
    ("https://example.com/x\n" * 501, "at most 500 lines"),
])
def test_an_empty_or_huge_paste_is_refused_whole(login_as, caseworker, text, message):
    case = open_case(caseworker)
    response = login_as(caseworker).post(reverse("web_addresses_add", args=[case.reference]), {"addresses": text})
    assert response.status_code == 400 and message in response.content.decode()
    assert not Address.objects.exists()


def test_an_address_added_by_mistake_can_be_removed_until_it_is_asked_for(login_as, caseworker):
    case = open_case(caseworker)
    paste(case, caseworker, ["https://example.com/a", "https://example.com/b"])
    first = case.web_addresses.get(url="https://example.com/a")
    client = login_as(caseworker)
    assert client.post(reverse("web_address_remove", args=[case.reference, first.pk])).status_code == 302
    assert list(case.web_addresses.values_list("url", flat=True)) == ["https://example.com/b"]
