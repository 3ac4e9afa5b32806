"""Caller quotas per client (design rule 9): an IPv6 client is its /64, with wider /56 and /48 tiers; an IPv4
client is its address (docs/caller.md, with the carrier-NAT trade-off)."""

import json

from django.test import Client
from django.urls import reverse

from cases.models import Case, Item
from hashing.models import BankHash
from tests.calls import image, payload

ELIGIBLE = {k: "yes" for k in ("in_content", "adult_in_content", "intimate", "has_files")}


def start(ip):
    return Client(REMOTE_ADDR=ip).post(reverse("caller:start"), ELIGIBLE)


def test_one_slash_64_is_one_client_however_many_addresses_it_uses(db, settings):
    """The attack of issue 15: eight addresses of one /64, each a new self-service case with a made-up PDQ."""
    settings.CALLER_CASES_PER_IP_PER_DAY = 5
    answers = [start(f"2001:db8:1:2::{n:x}") for n in range(1, 9)]
    assert [r.status_code for r in answers] == [302] * 5 + [429] * 3
    assert "Too many new cases" in answers[-1].content.decode()
    assert Case.objects.count() == 5
    # Each granted link submits once; the /64's submissions are counted as one client's too.
    settings.CALLER_SUBMISSIONS_PER_IP_PER_HOUR = 3
    sent = [Client(REMOTE_ADDR=f"2001:db8:1:2:ffff::{n}").post(
        response["Location"] + "submit/",
        json.dumps(payload([image(100 + n, quality=100)])), content_type="application/json")
        for n, response in enumerate(answers[:5])]
    assert [r.status_code for r in sent] == [200] * 3 + [429] * 2
    assert Item.objects.count() == 3 and BankHash.objects.filter(signal_type="pdq").count() == 3


def test_wider_ipv6_tiers_catch_many_slash_64s(db, settings):
    settings.CALLER_CASES_PER_IP_PER_DAY = 1
    settings.QUOTA_IPV6_TIERS = [(64, 1), (56, 3), (48, 5)]
    # One /56 holds 256 /64s: each is a new client, but the /56 as a whole gets three times the quota.
    in_one_56 = [start(f"2001:db8:7:{n:x}::1").status_code for n in range(5)]
    assert in_one_56 == [302, 302, 302, 429, 429]
    # Another /56 of the same /48: two more, then the /48's five are used up.
    other_56 = [start(f"2001:db8:7:{0x100 + n:x}::1").status_code for n in range(3)]
    assert other_56 == [302, 302, 429]
    assert start("2001:db8:8::1").status_code == 302  # another /48 altogether
    assert Case.objects.count() == 6


def test_ipv4_is_the_address_and_a_mapped_address_is_ipv4(db, settings):
    settings.CALLER_CASES_PER_IP_PER_DAY = 2
    assert [start("198.51.100.7").status_code for _ in range(3)] == [302, 302, 429]
    assert start("::ffff:198.51.100.7").status_code == 429  # the same client, written as IPv6
    assert start("198.51.100.8").status_code == 302  # the next address is another client (no /24 grouping)


def test_the_tiers_are_a_setting():
    from core.clientip import quota_keys

    assert quota_keys("2001:db8:1:2:3:4:5:6") == [("2001:db8:1:2::/64", 1), ("2001:db8:1::/56", 4),
                                                  ("2001:db8:1::/48", 16)]
    assert quota_keys("203.0.113.4") == [("203.0.113.4", 1)]
    assert quota_keys(None) == [("unknown", 1)]
