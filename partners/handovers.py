"""Where each partner's fetches of the feeds, and its push, left it (FeedPosition, per route) and when changes
reached it (Handover, which statistics and the dating of its reports read)."""

from django.utils import timezone

from partners.models import FeedPosition, Handover


def note_fetch(partner, route, *, moved=False, last=None, start=None, **position):
    """Remember where this partner's latest fetch through `route` (a feed) left it (FeedPosition), and, for a page
    that carried changes, when they reached it (Handover, for statistics): two small writes per page.

    A StopNCII client chooses where it starts: its checkpoint moves only when it starts from where it was (or
    earlier), so one that skips ahead is not taken to have heard what it skipped. Its address checkpoint is where
    a sync's last page carried its web addresses up to, whatever its start (stopncii.own_addresses carries them
    from where the partner was); it never moves back (an older sync finishing late carried no more)."""
    now = timezone.now()
    if start is not None:
        known = FeedPosition.objects.filter(partner=partner, route=route).first()
        if known is not None:
            if known.checkpoint is not None and start > known.checkpoint:  # a gap: keep where it really was
                position.pop("checkpoint", None)
            if known.address_checkpoint is not None and position.get("address_checkpoint") is not None:
                position["address_checkpoint"] = max(known.address_checkpoint, position["address_checkpoint"])
    FeedPosition.objects.update_or_create(partner=partner, route=route, defaults={"fetched_at": now, **position})
    if moved:
        handed_over(partner, route, now, txid=position["txid"], change_id=position["change_id"])
    elif last is not None:
        handed_over(partner, route, now, change_from=start, change_at=last[0], change_id=last[1])


def handed_over(partner, route, at, *, change_id, txid=None, change_from=None, change_at=None):
    """Changes reached `partner` through `route` at `at`: up to a place in the change log (txid, change_id) for a
    native page or a pushed batch; for a StopNCII page, those from `change_from` up to its last change (change_at,
    change_id). Statistics date "shared" by these, and a partner's reports are dated no earlier."""
    Handover.objects.create(partner=partner, route=route, at=at, txid=txid, change_from=change_from,
                            change_at=change_at, change_id=change_id)
