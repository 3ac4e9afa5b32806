"""The hand-built statistics scenario tests/test_stats.py describes; the statistics tests share it."""

from datetime import UTC, datetime

from cases import actions as cases
from hashing.models import BankChange, BankHash
from partners.models import Handover, Outcome, Partner
from tests.calls import image, issue_code, open_case, submit, video
from tests.helpers import live_partner


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def scenario(caseworker):
    first = open_case(caseworker)
    submit(issue_code(first, caseworker), [image(1), video(2)])
    second = open_case(caseworker)
    submit(issue_code(second, caseworker), [image(1), image(3)])  # photo 1 again: a hash two cases hold
    third = open_case(caseworker)
    submit(issue_code(third, caseworker), [image(5)])
    alpha, beta, gamma = live_partner("alpha"), live_partner("beta"), live_partner("gamma")

    # Each partner receives everything at one moment: a native page, a pushed batch, a StopNCII page.
    by_position = BankChange.objects.order_by("txid", "id").last()
    by_time = BankChange.objects.order_by("at", "id").last()
    Handover.objects.create(partner=alpha, route="native", at=at("2026-03-28T12:00"), txid=by_position.txid,
                            change_id=by_position.id)
    Handover.objects.create(partner=beta, route="push", at=at("2026-03-28T18:00"), txid=by_position.txid,
                            change_id=by_position.id)
    Handover.objects.create(partner=gamma, route="stopncii", at=at("2026-03-29T09:00"), change_at=by_time.at,
                            change_id=by_time.id)

    def report(partner, value, kind, when):
        bank_hash = BankHash.objects.get(value=value)
        Outcome.objects.create(partner=partner, bank_hash=bank_hash, signal_type=bank_hash.signal_type,
                               value=kind, acted_at=at(when))

    report(alpha, image(1)["pdq"], "PendingReview", "2026-03-28T13:00")  # matched 1 h after sharing
    report(alpha, image(1)["pdq"], "Removed", "2026-03-30T11:59")  # 47 h 59 min after sharing: inside
    report(alpha, image(3)["pdq"], "Blocked", "2026-03-30T12:01")  # 48 h 01 min: outside
    report(alpha, image(5)["pdq"], "PendingReview", "2026-03-28T14:00")
    cases.withdraw_case(third)  # after Alpha's match on photo 5
    report(beta, video(2)["md5"], "NotBlocked", "2026-03-28T19:00")  # one partner, one hash, three reports
    report(beta, video(2)["md5"], "Removed", "2026-03-29T19:00")
    report(beta, video(2)["md5"], "Removed", "2026-03-30T10:00")
    report(gamma, image(1)["pdq"], "Blocked", "2026-03-29T23:30")  # 00:30 on 30 March, London time
    report(gamma, image(3)["pdq"], "QualityUnknown", "2026-03-29T11:00")  # not about matching: counts nowhere
    return alpha, beta, gamma


def beta_removes(first, last, when):
    """Beta reports Removed on more of the scenario's hashes (from the first to the last, in id order, leaving out
    the video it already reported on), all at one time: it was given them at 18:00 on 28 March."""
    beta = Partner.objects.get(slug="beta")
    for bank_hash in BankHash.objects.exclude(value=video(2)["md5"]).order_by("id")[first:last]:
        Outcome.objects.create(partner=beta, bank_hash=bank_hash, signal_type=bank_hash.signal_type,
                               value="Removed", acted_at=at(when))
