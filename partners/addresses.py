"""Web addresses on a partner's own site, sent to that partner alone (docs/caller.md, "Partners' own addresses";
design rule 11): a caseworker sends them from the case (takedowns.actions.request_takedown, method "partner"),
the partner reads them in its native feed as records of signal type `url` (partners.records.url_record), and
its reports on them (/api/v1/feedback, signal type `url`) go back to takedowns as the addresses' outcomes.
When the case is withdrawn (cases.actions.case_withdrawn), each address becomes a withdrawn record, told after
the partner's cursor by every route it reads addresses by; its reports on it are then taken but not acted on.

They are case data for one partner, kept apart from the bank: no other partner's feed or reports reads them.
Partners lie below takedowns (the data flows partners -> takedowns), so a report is told upward through a
signal this module declares, which takedowns receives (TakedownsConfig.ready), as hashing declares
bank_changed below partners.
"""

from django.dispatch import Signal

from core.errors import Refusal
from hashing.models import SNAPSHOT_XMIN, ClockTime, TransactionId
from partners import records
from partners.models import Outcome, Partner, SharedAddress
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
    return (SharedAddress.objects.filter(partner=partner, txid__lt=SNAPSHOT_XMIN)
            .extra(where=["(partners_sharedaddress.txid, partners_sharedaddress.id) > (%s, %s)"],  # noqa: S610
                   params=list(position)).order_by("txid", "id"))


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
