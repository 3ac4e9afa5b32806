"""A case as partners saw it, for the case page and the caller's status page (through partners' template tags,
so that cases never reads partners): what they reported on its hashes, and whether its withdrawal has reached
each partner that must hear of it (live, or suspended after it received hashes).

"Told" and "acknowledged" are partners.feed's definitions (the ones retention waits on). A partner that never
fetched nor was pushed to never had the hashes, so has nothing to drop.
"""

from datetime import timedelta
from statistics import median

from django.db.models import Count
from django.utils import timezone

from hashing.models import BankHash, shareable_q
from partners import feed
from partners.models import FeedPosition, Handover, Outcome, Partner


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
    """[{"partner", "state", "hashes", "told", "acknowledged", "receives"}] per partner owed withdrawals that is
    live or received hashes, for the case's hashes that are withdrawn now (a hash another case still holds stays
    shared: there is nothing to tell of it). A suspended partner is told when it comes back."""
    withdrawn = set(BankHash.objects.filter(items__case=case).exclude(shareable_q()).values_list("pk", flat=True))
    if not withdrawn:
        return []
    counts = feed.reach(withdrawn)
    rows = []
    for partner in Partner.objects.owed_withdrawals().prefetch_related("feed_positions").order_by("name"):
        positions = [p for p in partner.feed_positions.all() if p.route != FeedPosition.Route.SANDBOX]
        if not positions and partner.state != Partner.State.LIVE:
            continue  # never received anything, and is not live: not a partner of this helpline's hashes yet
        hashes, told, acknowledged = counts.get(partner.pk, (0, 0, 0))
        rows.append({"pk": partner.pk, "partner": partner.name, "state": partner.get_state_display(), "hashes": hashes,
                     "told": told, "acknowledged": acknowledged, "receives": bool(positions)})
    return rows


def summary(case):
    """For the caller: each partner website that had the case's fingerprints, whether it was told of the
    withdrawal and whether it confirmed it, and the totals. One not told yet says when it should be (`pushed`:
    within minutes; else `wait`, its usual time between syncs, or None when that is not known)."""
    had = [row for row in reach(case) if row["receives"] and row["hashes"]]
    waiting = Partner.objects.filter(pk__in=[row["pk"] for row in had if row["told"] != row["hashes"]])
    waits = {partner.pk: usual_wait(partner) for partner in waiting.select_related("webhook")}
    rows = [{"partner": row["partner"], "told": row["told"] == row["hashes"],
             "acknowledged": row["acknowledged"] == row["hashes"], **waits.get(row["pk"], {})} for row in had]
    return {"partners": len(rows), "told": sum(r["told"] for r in rows),
            "acknowledged": sum(r["acknowledged"] for r in rows), "rows": rows}


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
