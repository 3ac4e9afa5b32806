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
    rows = [{"name": name, **row, "removal": percent(row["removal_rate"]), "within": percent(row["within_48h"]),
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
