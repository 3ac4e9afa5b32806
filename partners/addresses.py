"""Web addresses on a partner's own site, sent to that partner alone (docs/caller.md, "Partners' own addresses";
design rule 11): a caseworker sends them from the case (takedowns.actions.request_takedown, method "partner"),
the partner reads them in its native feed as records of signal type `url` (partners.records.url_record), and
its reports on them (/api/v1/feedback, signal type `url`) go back to takedowns as the addresses' outcomes.
When the case is withdrawn (cases.actions.case_withdrawn), each address becomes a withdrawn record, told after
the partner's cursor by every route it reads addresses by; its reports on it are then taken but not acted on.
Retention keeps a withdrawn case's addresses until each partner that had one has read its withdrawal (`told`).

They are case data for one partner, kept apart from the bank: no other partner's feed or reports reads them.
Partners lie below takedowns (the data flows partners -> takedowns), so a report is told upward through a
signal this module declares, which takedowns receives (TakedownsConfig.ready), as hashing declares
bank_changed below partners.
"""

from django.db.models import Exists, OuterRef, Q
from django.dispatch import Signal

from core import lookups
from core.errors import Refusal
from hashing.models import SNAPSHOT_XMIN, ClockTime, TransactionId
from partners import records
from partners.models import FeedPosition, Outcome, Partner, SharedAddress
from partners.stopncii import pseudonym

START = (0, 0)
# Sent inside the reporting transaction, once per report on an address the partner was sent: partner,
# address_id, value (an Outcome.Value), acted_at (None: now).
address_reported = Signal()
REPORTABLE = (Outcome.Value.PENDING_REVIEW, Outcome.Value.BLOCKED, Outcome.Value.NOT_BLOCKED, Outcome.Value.REMOVED)


def share(partner, case, addresses):
    """Send these (address id, web address) of a case to the partner's feed; each once. Only to a live partner."""
    if partner.state != Partner.State.LIVE:
        raise Refusal(f"{partner.name} is not live: ask its site by mail or through its web form.", status=409)
    SharedAddress.objects.bulk_create([SharedAddress(partner=partner, case=case, address_id=pk, url=url)
                                       for pk, url in addresses], ignore_conflicts=True)


def withdraw(case):
    """The case was withdrawn (cases.actions.case_withdrawn, in its transaction; partners.tasks receives it):
    each of its addresses a partner was sent becomes withdrawn, moved forward in the feed as a change of this
    transaction (so settled with it, after every cursor handed out before). Returns how many."""
    return SharedAddress.objects.filter(case=case, withdrawn_at=None, purged_at=None).update(
        txid=TransactionId(), at=ClockTime(), withdrawn_at=ClockTime())


def after(partner, position):
    """The partner's own address rows after `position` in the feed's order, settled as the bank's changes are
    (a row committed late never slips behind a cursor)."""
    return (SharedAddress.objects.filter(lookups.after(("txid", "id"), position), partner=partner,
                                         txid__lt=SNAPSHOT_XMIN).order_by("txid", "id"))


def waiting(partner, position):
    """Whether rows wait after `position` (push's re-drive asks: a withdrawal may change no bank hash)."""
    return after(partner, position).exists()


def page(partner, position=START, limit=1000):
    """(url records, next position, has_more): the partner's own addresses after `position`, each as it is now.
    A purged address is passed over, and so is a withdrawn one sent after `position` (this reader never had it:
    it is told only of withdrawals of what it could have read)."""
    rows = list(after(partner, position).annotate(updated=records.ISO_UTC).values_list(
        "txid", "id", "url", "case_id", "purged_at", "updated", "withdrawn_at", "sent_txid")[:limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    told = [records.url_record(url, reference=pseudonym(partner, case_id), updated=updated,
                               withdrawn=withdrawn_at is not None)
            for _txid, pk, url, case_id, purged_at, updated, withdrawn_at, sent_txid in rows
            if purged_at is None and (withdrawn_at is None or (sent_txid, pk) <= tuple(position))]
    return told, ((rows[-1][0], rows[-1][1]) if rows else position), has_more


def report(partner, reports):
    """The partner's reports on addresses it was sent ([{"value", "outcome", "acted_at"}]): each told to
    takedowns (address_reported); returns how many were. An address this partner was not sent, or one purged
    since, is refused as unknown: a partner learns nothing of another's. One withdrawn since is taken but not
    acted on (a partner may report what it did before it read the withdrawal): its case is closed to takedowns."""
    sent, live = set(), {}
    for url, address_id, withdrawn_at in (SharedAddress.objects.filter(partner=partner, purged_at=None,
                                                                       url__in=[r["value"] for r in reports])
                                          .values_list("url", "address_id", "withdrawn_at")):
        sent.add(url)
        if withdrawn_at is None:
            live.setdefault(url, []).append(address_id)
    for n, one in enumerate(reports):
        if one["value"] not in sent:
            raise Refusal("No such web address was sent to you.", field=f"[{one.get('n', n)}].value", status=404)
    acted = [one for one in reports if one["value"] in live]
    for one in acted:
        for address_id in live[one["value"]]:
            address_reported.send(sender=SharedAddress, partner=partner, address_id=address_id,
                                  value=one["outcome"], acted_at=one["acted_at"])
    return len(acted)


# --- Told of a withdrawal: the one definition -------------------------------------------------------------------
#
# A withdrawn address has been told to its partner when the partner is owed no withdrawals (offboarded:
# Partner.objects.owed_withdrawals, as for bank hashes), or every route it reads by (a FeedPosition: native feed,
# push, StopNCII) has read past the withdrawal: native, the address position in the cursor handed out last; push,
# the position delivered (not merely cut); both in the feed's (txid, id) order. StopNCII, the end of the latest
# sync that carried addresses, after the row's time. A route that never read an address (no position yet) has not
# read past it; a partner that reads by no route was never sent anything, so has nothing to be told. Retention
# waits on it (ncii_portal.retention): an address purged before its partner read the withdrawal would stay
# "asked for" there, with no row left to tell it.

def not_read_past():
    """The FeedPositions (of the outer SharedAddress's partner) that stand before the outer row's last change."""
    behind = Q(lookups.before(("address_txid", "address_row"), (OuterRef("txid"), OuterRef("id"))))
    return FeedPosition.objects.filter(partner=OuterRef("partner")).filter(
        Q(route__in=[FeedPosition.Route.NATIVE, FeedPosition.Route.PUSH]) & (Q(address_txid=None) | behind)
        | Q(route=FeedPosition.Route.STOPNCII) & (Q(address_checkpoint=None)
                                                  | Q(address_checkpoint__lte=OuterRef("at"))))


def told_q():
    """`told` as a filter on SharedAddress rows."""
    return Q(withdrawn_at__isnull=False) & (~Q(partner__in=Partner.objects.owed_withdrawals())
                                           | ~Exists(not_read_past()))


def told(shared):
    """The shared addresses (a SharedAddress queryset) withdrawn and told to their partner, as defined above."""
    return shared.filter(told_q())


def untold(shared):
    """The others: not withdrawn, or withdrawn and not yet read by some route of a partner owed withdrawals."""
    return shared.exclude(told_q())
