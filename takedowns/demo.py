"""Demo takedowns (development only): a site directory with every kind of site and both ways to ask, one of them
a partner's; web addresses on two demo cases; requests through web forms, answered in every way, one of them
overdue (on the caseworker's dashboard)."""

from datetime import timedelta

from django.utils import timezone

from cases.models import Case
from partners.models import Partner
from staff import roles
from staff.models import User
from takedowns import actions
from takedowns.models import Address, AddressOutcome, Site, TakedownRequest

# (domain, name, kind, abuse mail, web form)
SITES = [
    ("photogram.example", "Photogram", Site.Kind.PARTNER, "", "https://photogram.example/report"),
    ("tube-demo.example", "Demo Tube", Site.Kind.ADULT, "abuse@tube-demo.example", ""),
    ("board-demo.example", "Demo Board", Site.Kind.FORUM, "", "https://board-demo.example/dmca"),
    ("files-demo.example", "Demo Files", Site.Kind.FILE_HOST, "abuse@files-demo.example", ""),
    ("search-demo.example", "Demo Search", Site.Kind.SEARCH_ENGINE, "", "https://search-demo.example/removals"),
    ("host-demo.example", "Demo Hosting", Site.Kind.HOSTING, "abuse@host-demo.example", ""),
]
ADDRESSES = {
    "DEM000000003": [f"https://www.tube-demo.example/video/{n}" for n in range(1, 5)]
    + [f"https://board-demo.example/t/{n}" for n in range(1, 4)] + ["https://photogram.example/p/demo"],
    "DEM000000002": ["https://files-demo.example/f/abc", "https://files-demo.example/f/def"],
}


def seed():
    if Site.objects.filter(domain="tube-demo.example").exists() or not Case.objects.filter(
            reference__in=ADDRESSES).exists():
        return []
    caseworker = User.objects.with_role(roles.CASEWORKER).order_by("pk").first()
    host = None
    for domain, name, kind, mail, form in reversed(SITES):  # the hosting provider first
        site = actions.save_site(None, by=caseworker, domain=domain, name=name, kind=kind, abuse_email=mail,
                                 web_form_url=form, partner=Partner.objects.filter(slug="demo-photogram").first()
                                 if kind == Site.Kind.PARTNER else None,
                                 hosting_provider=host if kind != Site.Kind.HOSTING else None)
        host = host or site
    for reference, urls in ADDRESSES.items():
        actions.add_addresses(Case.objects.get(reference=reference), "\n".join(urls), by=caseworker)
    case = Case.objects.get(reference="DEM000000003")
    tube, board = Site.objects.get(domain="tube-demo.example"), Site.objects.get(domain="board-demo.example")
    answered = actions.request_takedown(case, tube, case.web_addresses.filter(site=tube), method="web_form",
                                        basis="us_take_it_down", by=caseworker)
    backdate(answered, days=5)
    first, second, third, fourth = case.web_addresses.filter(site=tube).order_by("url")
    sent_at = answered.sent_at - timedelta(days=5)
    actions.record_outcome(case, [first], "removed", at=sent_at + timedelta(hours=20), by=caseworker)
    actions.record_outcome(case, [second], "removed", at=sent_at + timedelta(hours=70), by=caseworker)
    actions.record_outcome(case, [third], "refused", reason="Says the video is a lookalike", by=caseworker)
    actions.record_outcome(case, [fourth], "no_answer", by=caseworker)
    overdue = actions.request_takedown(case, board, case.web_addresses.filter(site=board), method="web_form",
                                       basis="site_policy", by=caseworker)
    backdate(overdue, days=3)
    actions.mark_overdue()
    return []


def backdate(request, days):
    """A request made `days` ago, with its addresses' times."""
    shift = timedelta(days=days)
    at = timezone.now() - shift
    TakedownRequest.objects.filter(pk=request.pk).update(created=at, sent_at=at,
                                                         due_at=at + (request.due_at - request.sent_at))
    Address.objects.filter(requests=request).update(first_asked_at=at, outcome_at=at)
    AddressOutcome.objects.filter(request=request).update(at=at)
