"""The supervisors' statistics: the dashboard (numbers, funnel, charts with their data tables, per-partner
table) and CSV exports with small numbers suppressed (design rule 10). Numbers come from stats.rollups."""

import csv
from datetime import timedelta

from django.http import HttpResponse
from django.shortcuts import render

from partners.models import Partner
from staff import roles
from staff.decorators import role_required
from stats import charts, rollups
from stats.forms import PeriodForm
from stats.metrics import Period

VIEWERS = (roles.SUPERVISOR, roles.ADMINISTRATOR)
SERIES = (("shared", "Shared with partners"), ("matched", "Matched"), ("actioned", "Blocked or removed"))


def chosen(request):
    """(form, period, partners, bucket) from the query string, or the last 12 weeks for all partners."""
    form = PeriodForm(request.GET if "first" in request.GET else None, initial=PeriodForm.initial_values())
    values = form.cleaned_data if form.is_bound and form.is_valid() else PeriodForm.initial_values()
    partners = [values["partner"]] if values.get("partner") else list(Partner.objects.order_by("name"))
    return form, Period(values["first"], values["last"]), partners, values.get("bucket") or "week"


def duration(value):
    """A percentile for people: "2 h 30 min", "3 d 4 h", "over 30 days", or "—"."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    minutes = int(value / timedelta(minutes=1))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(p for p in parts if p) or "0 min"


def percent(value):
    return "—" if value is None else f"{value:.0%}"


@role_required(*VIEWERS)
def dashboard(request):
    form, period, partners, bucket = chosen(request)
    table = rollups.partner_numbers(period, partners)
    total = table.pop("all")
    intake = rollups.intake(period)
    series = rollups.series(period, partners, bucket)
    slugs = {p.name: p.slug for p in partners}
    rows = [{"name": name, "slug": slugs[name], "drills": [(n, row[n]) for n in ("matched", "reviewed", "actioned")],
             **row, "removal": percent(row["removal_rate"]), "within": percent(row["within_48h"]),
             "to_action": duration(row["to_action_median"]), "to_action_p90": duration(row["to_action_p90"]),
             "to_match": duration(row["to_match_median"])} for name, row in table.items()]
    return render(request, "stats/dashboard.html", {
        "form": form, "period": period, "bucket": bucket, "total": total, "intake": intake, "rows": rows,
        "removal": percent(total["removal_rate"]), "within": percent(total["within_48h"]),
        "to_action": duration(total["to_action_median"]), "to_action_p90": duration(total["to_action_p90"]),
        "to_match": duration(total["to_match_median"]), "match_to_action": duration(total["match_to_action_median"]),
        "funnel": charts.funnel([("Hashes received", intake["hashes_received"]), ("Shared with partners",
                                 total["shared"]), ("Matched", total["matched"]), ("Blocked or removed",
                                                                                   total["actioned"])]),
        "charts": [charts.bars(number, label, series) for number, label in SERIES],
        "series": series,
        "query": request.GET.urlencode(),
        "can_drill": request.user.has_role(roles.SUPERVISOR),
    }, status=400 if form.errors else 200)


def suppressed(count):
    """Design rule 10: counts from 1 to 4 leave the portal as "<5"."""
    return "<5" if 0 < count < 5 else str(count)


def shown_if(denominator, text):
    return text if denominator >= 5 else "suppressed (<5)"


@role_required(*VIEWERS)
def export(request, table):
    """CSV of one of the dashboard's tables for the chosen period and partners, small numbers suppressed."""
    _form, period, partners, bucket = chosen(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="{table}-{period.first.isoformat()}-'
                                       f'{period.last.isoformat()}.csv"')
    out = csv.writer(response)
    if table == "partners":
        out.writerow(["partner", "shared", "matched", "reviewed", "actioned", "removal rate",
                      "median time to action", "90th percentile time to action", "actioned within 48 hours"])
        for name, row in rollups.partner_numbers(period, partners).items():
            out.writerow([name, *(suppressed(row[k]) for k in ("shared", "matched", "reviewed", "actioned")),
                          shown_if(row["reviewed"], percent(row["removal_rate"])),
                          shown_if(row["actioned"], duration(row["to_action_median"])),
                          shown_if(row["actioned"], duration(row["to_action_p90"])),
                          shown_if(row["actioned"], percent(row["within_48h"]))])
    elif table == "series":
        out.writerow(["period", "shared", "matched", "reviewed", "actioned"])
        for label, values in rollups.series(period, partners, bucket):
            out.writerow([label, *(suppressed(values[k]) for k in ("shared", "matched", "reviewed", "actioned"))])
    elif table == "intake":
        intake = rollups.intake(period)
        out.writerow(["number", "breakdown", "count"])
        for number in ("contacts", "cases", "hashes_received", "withdrawals"):
            out.writerow([number, "", suppressed(intake[number])])
        for number in ("contacts_by_channel", "contacts_by_outcome", "referrals_by_service", "referrals_by_status",
                       "cases_by_abuse_type", "items_by_kind"):
            for breakdown, count in intake[number].items():
                out.writerow([number, breakdown or "(none)", suppressed(count)])
    else:
        return HttpResponse("No such table: choose partners, series or intake.", status=404,
                            content_type="text/plain")
    return response


DRILLABLE = {"matched": "Matched", "reviewed": "Reviewed", "actioned": "Blocked or removed"}


@role_required(roles.SUPERVISOR)
def drill_down(request, slug, number):
    """The cases behind one partner's number: supervisors only (they see every case), and audited."""
    from django.shortcuts import get_object_or_404

    from audit.actions import record

    if number not in DRILLABLE:
        return HttpResponse("Choose matched, reviewed or actioned.", status=404, content_type="text/plain")
    partner = get_object_or_404(Partner, slug=slug)
    _form, period, _partners, _bucket = chosen(request)
    cases = list(rollups.cases_behind(period, partner, number))
    record("stats.drill_down", actor=request.user, target=partner, details={
        "number": number, "first": period.first.isoformat(), "last": period.last.isoformat(), "cases": len(cases)})
    return render(request, "stats/drill_down.html", {"partner": partner, "label": DRILLABLE[number],
                                                     "period": period, "cases": cases})


@role_required(*VIEWERS)
def monthly_report(request, year, month):
    """A month on one printable page, fit to leave the portal: counts under 5 as "<5", rates and times over
    fewer than 5 suppressed (design rule 10)."""
    import calendar
    from datetime import date

    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return HttpResponse("No such month.", status=404, content_type="text/plain")
    period = Period(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))
    table = rollups.partner_numbers(period, list(Partner.objects.order_by("name")))
    intake = rollups.intake(period)
    rows = [[name, *(suppressed(row[k]) for k in ("shared", "matched", "reviewed", "actioned")),
             shown_if(row["reviewed"], percent(row["removal_rate"])),
             shown_if(row["actioned"], duration(row["to_action_median"])),
             shown_if(row["actioned"], percent(row["within_48h"]))] for name, row in table.items()]
    return render(request, "stats/monthly_report.html", {
        "period": period, "rows": rows,
        "intake": [(label, suppressed(intake[key])) for key, label in (
            ("contacts", "Contacts"), ("cases", "Cases opened"), ("hashes_received", "Hashes received"),
            ("withdrawals", "Withdrawals"))]})
