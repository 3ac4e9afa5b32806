"""docs/statistics.md on a hand-built scenario, with every expected number written out.

Three live partners take the hashes of three cases: Alpha by the native feed, Beta by push, Gamma by StopNCII
(PDQ and video MD5 only). A photo is in two cases; one case is withdrawn after a partner matched it; Beta reports
on one hash three times; Alpha acts just inside and just outside 48 hours after sharing, across the start of
British Summer Time (29 March 2026, 01:00 UTC), when local clocks would say 49 hours for both.
"""

import random
from datetime import date, timedelta

from django.utils import timezone

from cases import actions as cases
from core.periods import Period
from hashing.models import BankChange, BankHash
from partners.models import Handover, Outcome
from stats import bins, keeping, reading
from stats.models import DailyCount, DailyHistogram, HistogramToDate, MonthlyCount
from tests import stats_reference as reference
from tests.calls import image, issue_code, open_case, submit, video
from tests.helpers import live_partner
from tests.stats_scenario import scenario


def hours(n, minutes=0):
    return timedelta(hours=n, minutes=minutes)


def test_every_partner_number_on_the_scenario(caseworker):
    scenario(caseworker)
    march = reference.partner_numbers(Period(date(2026, 3, 1), date(2026, 3, 31)))
    five_minutes = timedelta(minutes=5)
    assert march["Alpha"] == {
        "shared": 10, "matched": 3, "reviewed": 2, "actioned": 2, "removal_rate": 1.0, "within_48h": 0.5,
        "actioned_after_sharing": 2, "actioned_within_48h": 1,
        "to_match_median": hours(2), "to_match_p90": hours(54),
        "to_action_median": hours(48), "to_action_p90": hours(54),
        "match_to_action_median": five_minutes, "match_to_action_p90": hours(47),
    }
    assert march["Beta"] == {
        "shared": 10, "matched": 1, "reviewed": 1, "actioned": 1, "removal_rate": 1.0, "within_48h": 1.0,
        "actioned_after_sharing": 1, "actioned_within_48h": 1,
        "to_match_median": hours(1), "to_match_p90": hours(1),
        "to_action_median": hours(25), "to_action_p90": hours(25),
        "match_to_action_median": hours(24), "match_to_action_p90": hours(24),
    }
    assert march["Gamma"] == {
        "shared": 4, "matched": 1, "reviewed": 1, "actioned": 1, "removal_rate": 1.0, "within_48h": 1.0,
        "actioned_after_sharing": 1, "actioned_within_48h": 1,
        "to_match_median": hours(14, 30), "to_match_p90": hours(14, 30),
        "to_action_median": hours(14, 30), "to_action_p90": hours(14, 30),
        "match_to_action_median": five_minutes, "match_to_action_p90": five_minutes,
    }
    assert march["all"] == {
        "shared": 24, "matched": 5, "reviewed": 4, "actioned": 4, "removal_rate": 1.0, "within_48h": 0.75,
        "actioned_after_sharing": 4, "actioned_within_48h": 3,
        "to_match_median": hours(2), "to_match_p90": hours(54),
        "to_action_median": hours(25), "to_action_p90": hours(54),
        "match_to_action_median": five_minutes, "match_to_action_p90": hours(47),
    }


def test_days_are_london_days(caseworker):
    scenario(caseworker)
    on = {day: reference.partner_numbers(Period(date(2026, 3, day), date(2026, 3, day)))["all"]
          for day in (28, 29, 30)}
    assert [on[day]["shared"] for day in (28, 29, 30)] == [20, 4, 0]
    assert [on[day]["matched"] for day in (28, 29, 30)] == [3, 0, 2]  # Gamma's 23:30 UTC is 00:30 on the 30th
    assert [on[day]["actioned"] for day in (28, 29, 30)] == [0, 1, 3]
    assert [on[day]["reviewed"] for day in (28, 29, 30)] == [1, 0, 3]
    assert on[29]["removal_rate"] is None and on[30]["removal_rate"] == 1.0
    april = reference.partner_numbers(Period(date(2026, 4, 1), date(2026, 4, 30)))["all"]
    assert april["matched"] == april["shared"] == 0 and april["to_match_median"] is None


def test_intake_numbers_on_the_scenario(caseworker):
    scenario(caseworker)
    today = timezone.localdate()
    assert reference.intake(Period(today, today)) == {
        "contacts": 3, "contacts_by_channel": {"phone": 3}, "contacts_by_outcome": {"case_opened": 3},
        "referrals_by_service": {}, "referrals_by_status": {},
        "cases": 3, "cases_by_abuse_type": {"shared": 3}, "items_by_kind": {"image": 4, "video": 1},
        "hashes_received": 10, "withdrawals": 1, "active": 7,
    }


def test_percentiles_come_from_bin_edges():
    assert bins.EDGES[bins.bin_of(hours(47, 59))] == 48 * 3600  # 48 hours is an edge: inside stays inside
    assert bins.EDGES[bins.bin_of(hours(48, 1))] == 54 * 3600
    assert bins.bin_of(timedelta(seconds=-30)) == 0  # a partner's clock ahead of ours
    assert bins.percentile({bins.bin_of(timedelta(days=40)): 1}, 0.5) == bins.OVER
    assert bins.percentile({}, 0.5) is None


# --- Rollups: the same numbers, kept incrementally -------------------------------------------------------------

def rollup_rows():
    return (set(DailyCount.objects.values_list("day", "number", "partner_id", "breakdown", "count")),
            set(MonthlyCount.objects.values_list("day", "number", "partner_id", "breakdown", "count")),
            set(DailyHistogram.objects.values_list("day", "measure", "partner_id", "bin", "count")),
            {(*key, tuple(counts)) for *key, counts in HistogramToDate.objects.values_list(
                "day", "measure", "partner_id", "counts")})


def test_the_rollups_give_the_reference_numbers(caseworker):
    scenario(caseworker)
    keeping.rebuild()
    for first, last in [(date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 3, 29), date(2026, 3, 29)),
                        (date(2026, 3, 30), date(2026, 3, 30)), (date(2026, 4, 1), date(2026, 4, 30)),
                        # whole months from the monthly rollup, the days around them from the daily one
                        (date(2026, 2, 20), date(2026, 4, 10)), (date(2026, 3, 29), date(2026, 4, 30))]:
        period = Period(first, last)
        assert reading.partner_numbers(period) == reference.partner_numbers(period), (first, last)
    today = Period(timezone.localdate(), timezone.localdate())
    assert reading.intake(today) == reference.intake(today)
    assert reading.partner_numbers(Period(date(2026, 3, 1), date(2026, 3, 31)))["all"]["actioned"] == 4


def test_rebuild_equals_incremental_on_a_randomised_scenario(caseworker):
    """Four partners, fed every way at once: native pages, pushes and StopNCII pages; feeds that start again
    from the beginning, StopNCII syncs that skip ahead (leaving a gap a later sync fills), a partner taking PDQ
    only, a handover committed a few minutes after it was made. Updated after each step, the rollups equal a
    rebuild and the reference."""
    rng = random.Random(2)  # this seed once found a sync that started after its last change
    partners = [live_partner(f"p{n}") for n in range(3)] + [live_partner("p3", signal_types=["pdq"])]
    routes = {partners[0]: ["native"], partners[1]: ["stopncii"], partners[2]: ["native", "push", "stopncii"],
             partners[3]: ["push", "stopncii"]}
    keeping.update()  # the first run: from scratch, nothing yet
    reports = ["PendingReview", "Blocked", "NotBlocked", "Removed", "QualityUnknown"]
    for step in range(10):
        case = open_case(caseworker)
        items = [image(100 * step + n, quality=rng.choice([20, 80, 90])) for n in range(1, 4)]
        submit(issue_code(case, caseworker), [*items, video(100 * step)])
        changes = list(BankChange.objects.order_by("txid", "id"))
        in_time = sorted(changes, key=lambda c: (c.at, c.id))
        for partner in rng.sample(partners, 3):
            route = rng.choice(routes[partner])
            when = timezone.now() - timedelta(minutes=rng.choice([0, 0, 0, 4]))  # some commit late
            if route == "stopncii":
                last = rng.choice(in_time[len(in_time) // 2:])
                start = rng.choice([None, None, rng.choice(in_time).at])
                Handover.objects.create(partner=partner, route=route, at=when, change_from=start, change_at=last.at,
                                        change_id=last.id)
            else:
                last = changes[-1] if rng.random() < 0.7 else rng.choice(changes)  # or a fetch from the start
                Handover.objects.create(partner=partner, route=route, at=when, txid=last.txid, change_id=last.id)
        for _ in range(8):
            partner = rng.choice(partners)
            bank_hash = rng.choice(list(BankHash.objects.all()))
            acted = timezone.now() - timedelta(hours=rng.randint(0, 200), minutes=rng.randint(0, 59))
            Outcome.objects.create(partner=partner, bank_hash=bank_hash, signal_type=bank_hash.signal_type,
                                   value=rng.choice(reports), acted_at=acted)
        if step in (3, 7):
            cases.withdraw_case(case)
        keeping.update()
    incremental = rollup_rows()
    keeping.rebuild()
    assert rollup_rows() == incremental
    assert len(incremental[0]) > 20 and len(incremental[2]) > 5 and incremental[1] and incremental[3]
    whole = Period(timezone.localdate() - timedelta(days=10), timezone.localdate())
    numbers = reading.partner_numbers(whole)
    assert numbers == reference.partner_numbers(whole)
    assert all(numbers[p.name]["shared"] > 0 for p in partners)
