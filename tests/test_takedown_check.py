"""Is it still up? An optional check (off by default) asks each open address for its HTTP status only, through the
webhooks' address guard (no private or loopback targets outside tests), and suggests "removed" on 404 or 410 for
the caseworker to confirm. Local servers only."""

import socket
from datetime import timedelta

import pytest
import urllib3
from django.urls import reverse
from django.utils import timezone

from takedowns import actions, checks, tasks
from takedowns.models import Address
from tests.calls import open_case
from tests.helpers import beat_schedule
from tests.takedown_calls import described, paste

PATHS = {"/up.jpg": 200, "/gone.jpg": 404, "/deleted.jpg": 410, "/moved.jpg": 301, "/never-asked.jpg": 404}


@pytest.fixture
def open_addresses(caseworker, web_pages, settings):
    """Five addresses on a local server (the paste refuses local addresses: set here), four of them asked for."""
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.TAKEDOWN_CHECK_ADDRESSES = True
    server = web_pages(statuses=PATHS)
    case = open_case(caseworker)
    paste(case, caseworker, [f"https://pages.example.org{path}" for path in PATHS])
    for address in case.web_addresses.all():
        Address.objects.filter(pk=address.pk).update(url=server.url + address.url.split("example.org", 1)[1])
    site = described("example.org")
    actions.request_takedown(case, site, case.web_addresses.exclude(url__endswith="never-asked.jpg"),
                             method="web_form", basis="site_policy", by=caseworker)
    return case, server


def by_path(case):
    return {a.url.rsplit("/", 1)[1]: a for a in case.web_addresses.all()}


def test_the_check_is_off_by_default(open_addresses, settings):
    case, server = open_addresses
    settings.TAKEDOWN_CHECK_ADDRESSES = False
    assert tasks.check_addresses() == 0 and server.requests == []
    assert "check-web-addresses" not in beat_schedule()
    assert "check-web-addresses" in beat_schedule(TAKEDOWN_CHECK_ADDRESSES="1")


def test_gone_addresses_are_suggested_as_removed_for_the_caseworker_to_confirm(login_as, caseworker, open_addresses):
    case, server = open_addresses
    assert tasks.check_addresses() == 4  # the address never asked for is not checked
    found = by_path(case)
    assert {name: a.check_status for name, a in found.items()} == {
        "up.jpg": 200, "gone.jpg": 404, "deleted.jpg": 410, "moved.jpg": 301, "never-asked.jpg": None}
    assert {name for name, a in found.items() if a.suggested_at} == {"gone.jpg", "deleted.jpg"}
    assert all(a.outcome == "asked" for name, a in found.items() if name != "never-asked.jpg")  # only suggested
    # One HEAD each: no body asked for, no redirect followed.
    assert sorted(server.requests) == sorted(("HEAD", path) for path in PATHS if path != "/never-asked.jpg")

    client = login_as(caseworker)
    page = client.get(reverse("case_web_addresses", args=[case.reference])).content.decode()
    assert page.count('data-field="suggestion"') == 2 and "Seems gone (404)" in page
    client.post(reverse("web_addresses_outcome", args=[case.reference]),
                {"address": [found["gone.jpg"].pk], "outcome": "removed"})
    gone = Address.objects.get(pk=found["gone.jpg"].pk)
    assert gone.outcome == "removed" and gone.suggested_at is None

    # Checked within TAKEDOWN_CHECK_HOURS: not asked again; then again (a removed address no more).
    assert tasks.check_addresses() == 0
    Address.objects.update(checked_at=timezone.now() - timedelta(hours=25))
    assert tasks.check_addresses() == 3


def test_a_site_that_refuses_head_is_asked_with_get_and_its_body_left_unread(open_addresses, web_pages):
    case, _server = open_addresses
    refusing = web_pages(statuses={"/gone.jpg": 404}, refuse_head=True)
    address = by_path(case)["gone.jpg"]
    Address.objects.filter(pk=address.pk).update(url=f"{refusing.url}/gone.jpg")
    assert checks.status_of(f"{refusing.url}/gone.jpg") == 404
    assert refusing.requests == [("HEAD", "/gone.jpg"), ("GET", "/gone.jpg")]


def test_the_webhooks_guard_keeps_the_check_off_private_and_loopback_addresses(open_addresses, settings,
                                                                              monkeypatch):
    case, server = open_addresses
    settings.WEBHOOK_ALLOW_LOOPBACK = False  # as in production
    assert tasks.check_addresses() == 4
    assert server.requests == [] and not Address.objects.exclude(checked_at=None).exclude(check_status=None).exists()

    def no_connection(*args, **kwargs):
        raise AssertionError("the check connected to a refused address")

    monkeypatch.setattr(urllib3, "HTTPConnectionPool", no_connection)
    monkeypatch.setattr(urllib3, "HTTPSConnectionPool", no_connection)
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: (
        [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80))] if host == "metadata.example.com"
        else real(host, *a, **k)))
    for url in ("http://10.0.0.1/a.jpg", "http://169.254.169.254/latest/meta-data/", "http://[::1]/a.jpg",
                "http://metadata.example.com/a.jpg", "http://[64:ff9b::a00:1]/a.jpg"):
        assert checks.status_of(url) is None, url
