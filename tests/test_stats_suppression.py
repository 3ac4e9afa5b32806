"""Design rule 10: no suppressed number can be worked back out of the output it is in. An attacker reads the real
CSV exports and the real monthly report, as a supervisor downloads them, and derives every hidden count it can
(a rate times its denominator, a total minus the others in every sum, what "<5" and "suppressed" say of a
count, all carried from sum to sum until nothing changes); the tests fail if one comes back exactly. The
suppression function itself is checked on small hand tables, and against the same attacker on random ones."""

import csv
import html
import io
import random
import re
from datetime import date
from math import ceil, floor, inf

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import actions as cases
from cases.models import Contact
from core.periods import Period
from hashing.models import BankHash
from partners.models import Outcome, Partner
from stats import keeping, reading, suppression
from tests.calls import image
from tests.conftest import make_staff
from tests.stats_scenario import at, beta_removes, scenario

COUNTS = ("shared", "matched", "reviewed", "actioned")


# --- The attacker ----------------------------------------------------------------------------------------------

class Attacker:
    """What a reader of one output can tell of its counts: {key: [low, high]}."""

    def __init__(self):
        self.known, self.sums, self.rates = {}, [], []

    def read(self, key, text):
        if text == "<5":
            self.known[key] = [1, 4]
        elif text == "suppressed":  # the output says: hidden, and not one of the small counts
            self.known[key] = [5, inf]
        else:
            self.known[key] = [int(text), int(text)]

    def unknown(self, key):
        """A count the output does not show (a total left out): anything, until a sum says otherwise."""
        self.known.setdefault(key, [0, inf])

    def solve(self):
        changed = True
        while changed:
            changed = False
            for total, parts in self.sums:
                changed |= self.narrow(total, sum(self.known[p][0] for p in parts),
                                       sum(self.known[p][1] for p in parts))
                for part in parts:
                    others = [p for p in parts if p != part]
                    changed |= self.narrow(part, self.known[total][0] - sum(self.known[p][1] for p in others),
                                           self.known[total][1] - sum(self.known[p][0] for p in others))
            for text, numerator, denominator in self.rates:
                changed |= self.rate(text, numerator, denominator)
        return self.known

    def narrow(self, key, low, high):
        before = self.known[key]
        after = [max(before[0], low), min(before[1], high)]
        self.known[key] = after
        return after != before

    def rate(self, text, numerator, denominator):
        """A shown rate ("33%") with whatever is known of its two counts: every pair that prints as it does."""
        if text == "—":  # nothing to divide by
            return self.narrow(denominator, 0, 0)
        if not text.endswith("%"):
            return False
        (n_low, n_high), (d_low, d_high) = self.known[numerator], self.known[denominator]
        share = int(text[:-1]) / 100
        if d_high == inf and (share == 0 or n_high == inf):
            return False  # unbounded: nothing learnt
        d_high = min(d_high, ceil(n_high / max(share - 0.005, 1e-9)) + 1)
        pairs = [(n, d) for d in range(max(d_low, 1), int(d_high) + 1)
                 for n in range(max(n_low, floor((share - 0.006) * d)), int(min(n_high, d, ceil((share + 0.006) * d)))
                                + 1) if f"{n / d:.0%}" == text]
        changed = self.narrow(numerator, min(n for n, _d in pairs), max(n for n, _d in pairs))
        return self.narrow(denominator, min(d for _n, d in pairs), max(d for _n, d in pairs)) | changed


def assert_nothing_comes_back(attacker, truth, texts):
    """Every count shown as "<5" or "suppressed": its true value inside what the reader can tell (the labels do
    not lie) and not pinned down to it."""
    known = attacker.solve()
    hidden = {key: text for key, text in texts.items() if text in ("<5", "suppressed")}
    assert hidden, "nothing hidden: the data does not test suppression"
    for key in hidden:
        low, high = known[key]
        assert low <= truth[key] <= high, (key, truth[key], known[key])
    derived = {key: truth[key] for key in hidden if known[key][0] == known[key][1]}
    assert derived == {}, f"hidden counts worked back out: {derived}"


# --- The real outputs ------------------------------------------------------------------------------------------

MARCH = {"first": "2026-03-01", "last": "2026-03-31", "bucket": "week"}


def busier_scenario(caseworker):
    """tests/test_stats.py's scenario, plus: Alpha reviews four more hashes (without acting), so it reviewed six and
    actioned two; contacts by chat and email that refer callers on (referrals by service and status)."""
    alpha, _beta, _gamma = scenario(caseworker)
    seen = {image(1)["pdq"], image(3)["pdq"]}
    for bank_hash in BankHash.objects.exclude(value__in=seen).order_by("id")[:4]:
        Outcome.objects.create(partner=alpha, bank_hash=bank_hash, signal_type=bank_hash.signal_type,
                               value="NotBlocked", acted_at=at("2026-03-30T09:00"))
    for _ in range(6):
        cases.take_contact(by=caseworker, channel=Contact.Channel.CHAT, intimate=False, abuser_contact=True)
    for _ in range(2):
        cases.take_contact(by=caseworker, channel=Contact.Channel.EMAIL, intimate=False, self_harm_risk=True)
    keeping.rebuild()


@pytest.fixture
def supervisor_with_data(transactional_db):
    busier_scenario(make_staff("casey@helpline.test", "caseworker"))
    return make_staff("sam@helpline.test", "supervisor")


def partner_attacker(rows, names):
    """rows: {partner or "all": [shared, matched, reviewed, actioned, removal rate]} as printed."""
    attacker = Attacker()
    for name in names:
        for number, text in zip(COUNTS, rows[name][:4], strict=True):
            attacker.read((name, number), text)
        attacker.rates.append((rows[name][4], (name, "actioned"), (name, "reviewed")))
    partners = [n for n in names if n != "all"]
    attacker.sums = [(("all", k), [(n, k) for n in partners]) for k in COUNTS]
    return attacker


def partner_truth(period):
    table = reading.partner_numbers(period, list(Partner.objects.order_by("name")))
    return {(name, k): row[k] for name, row in table.items() for k in COUNTS}


def test_no_hidden_count_comes_back_from_the_partner_csv(supervisor_with_data, login_as):
    response = login_as(supervisor_with_data).get(reverse("stats_export", args=["partners"]), MARCH)
    header, *body = csv.reader(io.StringIO(response.content.decode()))
    assert header[1:6] == ["shared", "matched", "reviewed", "actioned", "removal rate"]
    rows = {row[0]: row[1:6] for row in body}
    assert set(rows) == {"Alpha", "Beta", "Gamma", "all"}
    truth = partner_truth(Period(date(2026, 3, 1), date(2026, 3, 31)))
    assert truth[("Alpha", "reviewed")] == 6 and truth[("Alpha", "actioned")] == 2  # the rate would give it back
    assert truth[("Gamma", "shared")] == 4 and truth[("all", "shared")] == 24  # so would the "all" row
    texts = {(name, k): text for name, row in rows.items() for k, text in zip(COUNTS, row[:4], strict=True)}
    assert_nothing_comes_back(partner_attacker(rows, list(rows)), truth, texts)


AFTER, WITHIN, LATER = ("all", "actioned_after_sharing"), ("all", "actioned_within_48h"), ("all", "later")


def read_report(page):
    """The monthly report as its reader sees it: the per-partner rows ({partner or "all": [shared, matched,
    reviewed, actioned, removal rate]}) and the headline ({field: text})."""
    table = re.search(r'<table id="report-partners">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        name, *cells = [html.unescape(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows[name] = cells[:5]
    block = re.search(r'<dl[^>]*id="report-headline".*?</dl>', page, re.S).group(0)
    return rows, dict(re.findall(r'data-field="(\w+)">(.*?)</dd>', block))


def report_attacker(rows, headline):
    """partner_attacker, told also what the headline says: a rate with the count it rests on ("62% of 13 …")
    gives that count, and through the rate its numerator. The share within 48 hours rests on the actions after
    sharing (which the report shows nowhere else): those within 48 hours and those later add up to them."""
    attacker = partner_attacker(rows, list(rows))
    for key in (AFTER, WITHIN, LATER):
        attacker.unknown(key)
    attacker.sums.append((AFTER, [WITHIN, LATER]))
    for field, numerator, denominator in (("removal_rate", ("all", "actioned"), ("all", "reviewed")),
                                          ("within_48h", WITHIN, AFTER)):
        shown = re.fullmatch(r"(\d+%) of (\d+) .*", headline[field])
        if shown:
            rate, count = shown.groups()
            attacker.read(denominator, count)
            attacker.rates.append((rate, numerator, denominator))
    return attacker


def test_no_hidden_count_comes_back_from_the_monthly_report(supervisor_with_data, login_as):
    rows, headline = read_report(login_as(supervisor_with_data).get(reverse("stats_monthly_report", args=[2026, 3]))
                                 .content.decode())
    assert set(rows) == {"Alpha", "Beta", "Gamma", "all"}
    truth = partner_truth(Period(date(2026, 3, 1), date(2026, 3, 31)))
    texts = {(name, k): text for name, row in rows.items() for k, text in zip(COUNTS, row[:4], strict=True)}
    assert headline == {"removal_rate": "suppressed", "within_48h": "suppressed"}  # 4 actioned: "<5"
    assert_nothing_comes_back(report_attacker(rows, headline), truth, texts)


@pytest.mark.parametrize(("late", "expected"), [
    (0, {"removal_rate": "69% of 13 reviewed", "within_48h": "suppressed"}),
    (4, {"removal_rate": "76% of 17 reviewed", "within_48h": "62% of 13 actioned after sharing"}),
])
def test_the_reports_headline_counts_give_nothing_hidden_back(supervisor_with_data, login_as, late, expected):
    """Beta removes five hashes within 48 hours of sharing, and `late` more after that: of the 9 or 13 actions
    after sharing, 8 are within 48 hours. With none late, "89% of 9" would give back the one action after 48
    hours (Alpha's, at 48 h 01 min), so the share is withheld; with four late, five are, and it shows."""
    beta_removes(0, 5, "2026-03-29T10:00")
    beta_removes(5, 5 + late, "2026-03-31T12:00")
    keeping.rebuild()
    rows, headline = read_report(login_as(supervisor_with_data).get(reverse("stats_monthly_report", args=[2026, 3]))
                                 .content.decode())
    period = Period(date(2026, 3, 1), date(2026, 3, 31))
    everyone = reading.partner_numbers(period, list(Partner.objects.order_by("name")))["all"]
    truth = partner_truth(period) | {AFTER: everyone["actioned_after_sharing"],
                                     WITHIN: everyone["actioned_within_48h"]}
    truth[LATER] = truth[AFTER] - truth[WITHIN]
    assert (truth[WITHIN], truth[LATER]) == (8, 1 + late)
    assert headline == expected
    texts = {(name, k): text for name, row in rows.items() for k, text in zip(COUNTS, row[:4], strict=True)}
    attacker = report_attacker(rows, headline)
    assert_nothing_comes_back(attacker, truth, texts)
    if 0 < truth[LATER] < suppression.FEWER_THAN:  # a count the report never prints, and so never hides
        assert attacker.known[LATER][0] != attacker.known[LATER][1], "the later actions worked back out"


def test_no_hidden_count_comes_back_from_the_intake_csv(supervisor_with_data, login_as):
    today = timezone.localdate().isoformat()
    response = login_as(supervisor_with_data).get(reverse("stats_export", args=["intake"]),
                                                  {"first": today, "last": today})
    header, *body = csv.reader(io.StringIO(response.content.decode()))
    assert header == ["number", "breakdown", "count"]
    texts = {(number, "" if breakdown == "(none)" else breakdown): text for number, breakdown, text in body}
    intake = reading.intake(Period(timezone.localdate(), timezone.localdate()))
    truth = {(number, breakdown): count for number in ("contacts_by_channel", "contacts_by_outcome",
                                                        "referrals_by_service", "referrals_by_status",
                                                        "cases_by_abuse_type", "items_by_kind")
             for breakdown, count in intake[number].items()}
    truth |= {(number, ""): intake[number] for number in ("contacts", "cases", "hashes_received", "withdrawals")}
    assert texts.keys() == truth.keys()
    # Without complements, the outcomes (3 cases opened of 11 contacts) and the referrals' statuses (8, all
    # suggested) would give back the small ones.
    assert truth[("contacts", "")] == 11 and truth[("contacts_by_outcome", "case_opened")] == 3
    assert truth[("referrals_by_service", "crisis_line")] == 2
    attacker = Attacker()
    for key, text in texts.items():
        attacker.read(key, text)
    attacker.unknown(("referrals", ""))
    attacker.unknown(("items", ""))
    for number, total in (("contacts_by_channel", "contacts"), ("contacts_by_outcome", "contacts"),
                          ("referrals_by_service", "referrals"), ("referrals_by_status", "referrals"),
                          ("cases_by_abuse_type", "cases"), ("items_by_kind", "items")):
        attacker.sums.append(((total, ""), [key for key in texts if key[0] == number]))
    assert_nothing_comes_back(attacker, truth, texts)


# --- The function, on hand tables ------------------------------------------------------------------------------

def test_a_single_small_count_in_a_sum_takes_the_smallest_other_with_it():
    counts = {"all": 30, "a": 3, "b": 12, "c": 7, "d": 8}
    shown = suppression.suppress(counts, [("all", ["a", "b", "c", "d"])])
    assert [shown.count(k) for k in counts] == ["30", "<5", "12", "suppressed", "8"]
    nothing_hidden = suppression.suppress({"all": 30, "b": 12, "c": 10, "d": 8}, [("all", ["b", "c", "d"])])
    assert [nothing_hidden.count(k) for k in ("all", "b", "c", "d")] == ["30", "12", "10", "8"]


def test_one_complement_forces_another_until_every_sum_is_safe():
    """Rows and columns of a two-way table: the small cell's row complement leaves its column with one hidden
    cell, whose complement leaves the second row with one, whose complement closes the first column."""
    grid = {("r1", "c1"): 3, ("r1", "c2"): 10, ("r1", "c3"): 20, ("r2", "c1"): 9, ("r2", "c2"): 8,
            ("r2", "c3"): 25}
    counts = dict(grid)
    rows, columns = ("r1", "r2"), ("c1", "c2", "c3")
    sums = []
    for r in rows:
        counts[(r, "all")] = sum(grid[(r, c)] for c in columns)
        sums.append(((r, "all"), [(r, c) for c in columns]))
    for c in columns:
        counts[("all", c)] = sum(grid[(r, c)] for r in rows)
        sums.append((("all", c), [(r, c) for r in rows]))
    counts[("all", "all")] = sum(grid.values())
    sums += [(("all", "all"), [(r, "all") for r in rows]), (("all", "all"), [("all", c) for c in columns])]
    shown = suppression.suppress(counts, sums)
    assert shown.small == {("r1", "c1")}
    assert shown.complements == {("r1", "c2"), ("r2", "c2"), ("r2", "c1")}


def test_ranges_pin_nothing_down():
    # Two "<5" that add up to 2 are both 1: a third count goes.
    shown = suppression.suppress({"all": 10, "a": 1, "b": 1, "c": 8}, [("all", ["a", "b", "c"])])
    assert shown.small == {"a", "b"} and shown.complements == {"c"}
    # A "<5" and a "suppressed" (5 or more) adding up to 6 are 1 and 5: the total goes too.
    shown = suppression.suppress({"all": 6, "a": 1, "b": 5}, [("all", ["a", "b"])])
    assert shown.complements == {"b", "all"}
    # Through a total the output leaves out: the statuses give the referrals' total, which gives the small one.
    counts = {"referrals": 9, "police": 7, "crisis": 2, "suggested": 9}
    shown = suppression.suppress(counts, [("referrals", ["police", "crisis"]), ("referrals", ["suggested"])],
                                 unpublished={"referrals"})
    assert shown.complements == {"police"}


def test_zero_shows_and_is_never_a_complement():
    shown = suppression.suppress({"all": 9, "a": 4, "b": 0, "c": 5}, [("all", ["a", "b", "c"])])
    assert [shown.count(k) for k in ("all", "a", "b", "c")] == ["9", "<5", "0", "suppressed"]


def test_rates_go_with_either_of_their_counts():
    shown = suppression.suppress({"all_r": 12, "a_r": 6, "b_r": 6, "all_a": 8, "a_a": 3, "b_a": 5},
                                 [("all_r", ["a_r", "b_r"]), ("all_a", ["a_a", "b_a"])])
    assert shown.rate("a_a", "a_r", "50%") == "suppressed"  # numerator under 5: 50% of 6 gives back 3
    assert shown.rate("b_a", "b_r", "83%") == "suppressed"  # numerator its complement
    assert shown.rate("all_a", "all_r", "67%") == "67%"
    assert shown.over("a_a", "2 h") == "suppressed" and shown.over("b_a", "2 h") == "2 h"


@pytest.mark.parametrize("seed", range(40))
def test_random_tables_give_nothing_back(seed):
    """Random two-way tables with many small cells and zeros: whatever the function hides, the attacker finds no
    hidden cell's value."""
    rng = random.Random(seed)
    rows, columns = [f"r{n}" for n in range(rng.randint(1, 5))], [f"c{n}" for n in range(rng.randint(1, 4))]
    counts = {(r, c): rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 8, 13, 40]) for r in rows for c in columns}
    sums = []
    for r in rows:
        counts[(r, "all")] = sum(counts[(r, c)] for c in columns)
        sums.append(((r, "all"), [(r, c) for c in columns]))
    for c in columns:
        counts[("all", c)] = sum(counts[(r, c)] for r in rows)
        sums.append((("all", c), [(r, c) for r in rows]))
    shown = suppression.suppress(counts, sums)
    texts = {key: shown.count(key) for key in counts}
    attacker = Attacker()
    for key, text in texts.items():
        attacker.read(key, text)
    attacker.sums = sums
    if any(text in ("<5", "suppressed") for text in texts.values()):
        assert_nothing_comes_back(attacker, counts, texts)
