"""A case as partners saw it, for the case page and the caller's status page (through partners' template tags,
so that cases never reads partners): what they reported on its hashes, and whether its withdrawal has reached
each partner that must hear of it (live, or suspended after it received hashes).

What a partner must hear of is the case's withdrawn bank hashes it takes and the case's web addresses it was sent
through its own feeds (partners.addresses, "Partners' own addresses"), which the withdrawal made withdrawn
records. "Told" and "acknowledged" of hashes are partners.feed's definitions, "told" of addresses
partners.addresses.told_q (the ones retention waits on); a partner is told of the withdrawal once it is told of
both. Addresses have no acknowledgement: "acknowledged" is about hashes only. A partner that never fetched nor was
pushed to never had the hashes nor the addresses, so has nothing to drop.
"""

from datetime import timedelta
from statistics import median

from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from hashing.models import BankChange, BankHash, shareable_q
from partners import addresses, feed
from partners.models import FeedPosition, Handover, Outcome, Partner, SharedAddress


def reports(case):
    """[(partner name, outcome value, reports)] on this case's hashes, in one query."""
    return list(Outcome.objects.filter(bank_hash__items__case=case).values_list("partner__name", "value")
                .annotate(n=Count("id", distinct=True)).order_by("partner__name", "value"))


def counts(case):
    """{"matched": partners that matched any of its hashes, "removed": partners that blocked or removed}."""
    outcomes = Outcome.objects.filter(bank_hash__items__case=case)
    return {
        "matched": outcomes.filter(value__in=Outcome.MATCHED).values("partner").distinct().count(),
        "removed": outcomes.filter(value__in=Outcome.ACTIONED).values("partner").distinct().count(),
    }


def reach(case):
    """[{"partner", "state", "hashes", "told", "acknowledged", "addresses", "addresses_told", "told_all",
    "receives"}] per partner owed withdrawals that is live or received anything, for the case's hashes that are
    withdrawn now (a hash another case still holds stays shared, and one never shareable, such as a document's
    MD5 or a weak PDQ, was never handed to anyone: there is nothing to tell of either) and its web
    addresses sent to the partner and withdrawn. `told` and `acknowledged` count hashes; `told_all` is whether
    it was told of all of both. A suspended partner is told when it comes back."""
    was_shared = BankChange.objects.shareable().filter(bank_hash=OuterRef("pk"))
    withdrawn = set(BankHash.objects.filter(items__case=case).exclude(shareable_q()).filter(Exists(was_shared))
                    .values_list("pk", flat=True))
    counts = feed.reach(withdrawn) if withdrawn else {}
    sent = {partner: (n, told) for partner, n, told in (
        SharedAddress.objects.filter(case=case, withdrawn_at__isnull=False).values("partner")
        .annotate(n=Count("id"), told=Count("id", filter=addresses.told_q())).values_list("partner", "n", "told"))}
    if not withdrawn and not sent:
        return []
    rows = []
    for partner in Partner.objects.owed_withdrawals().prefetch_related("feed_positions").order_by("name"):
        positions = [p for p in partner.feed_positions.all() if p.route != FeedPosition.Route.SANDBOX]
        if not positions and partner.state != Partner.State.LIVE:
            continue  # never received anything, and is not live: not a partner of this helpline's hashes yet
        hashes, told, acknowledged = counts.get(partner.pk, (0, 0, 0))
        shared, shared_told = sent.get(partner.pk, (0, 0))
        if not withdrawn and not shared:
            continue  # the case's hashes stay shared, and it was sent none of the case's addresses
        rows.append({"pk": partner.pk, "partner": partner.name, "state": partner.get_state_display(), "hashes": hashes,
                     "told": told, "acknowledged": acknowledged, "addresses": shared, "addresses_told": shared_told,
                     "told_all": told == hashes and shared_told == shared, "receives": bool(positions)})
    return rows


def summary(case):
    """For the caller: each partner website that had the case's fingerprints or web addresses, whether it was
    told of the withdrawal (of both) and, for one that had fingerprints, whether it confirmed it (None for one
    that had only addresses: addresses have no confirmation), and the totals. One not told yet says when it
    should be (`pushed`: within minutes; else `wait`, its usual time between syncs, or None when that is not
    known)."""
    had = [row for row in reach(case) if row["receives"] and (row["hashes"] or row["addresses"])]
    waiting = Partner.objects.filter(pk__in=[row["pk"] for row in had if not row["told_all"]])
    waits = {partner.pk: usual_wait(partner) for partner in waiting.select_related("webhook")}
    rows = [{"partner": row["partner"], "told": row["told_all"],
             "acknowledged": row["acknowledged"] == row["hashes"] if row["hashes"] else None,
             **waits.get(row["pk"], {})} for row in had]
    return {"partners": len(rows), "told": sum(r["told"] for r in rows),
            "acknowledged": sum(bool(r["acknowledged"]) for r in rows), "rows": rows}


ONE_SYNC = timedelta(minutes=5)  # feed pages closer together than this are one sync
RECENT_PAGES = 200


def usual_wait(partner, now=None):
    """How soon `partner` should hear of a change it has not heard of yet: {"pushed": True} when a working webhook
    sends changes (within minutes), else {"wait": the median time between its last syncs (feed pages that
    carried changes, those within ONE_SYNC of each other counting as one sync)}, or {"wait": None} when it synced
    fewer than three times or has not synced for longer than that: then nobody can say."""
    webhook = getattr(partner, "webhook", None) if partner.delivery != Partner.Delivery.PULL else None
    if webhook is not None and not webhook.paused and webhook.degraded_at is None:
        return {"pushed": True, "wait": None}
    pages = list(Handover.objects.filter(partner=partner, route__in=[FeedPosition.Route.NATIVE,
                                                                     FeedPosition.Route.STOPNCII])
                 .order_by("-at").values_list("at", flat=True)[:RECENT_PAGES])
    syncs = [at for at, later in zip(pages, [None, *pages], strict=False) if later is None or later - at > ONE_SYNC]
    gaps = [later - at for later, at in zip(syncs, syncs[1:], strict=False)]
    wait = median(gaps) if len(gaps) >= 2 else None
    if wait is not None and (now or timezone.now()) - syncs[0] > wait:
        wait = None  # overdue: its usual rhythm says nothing about when it comes back
    return {"pushed": False, "wait": wait}
