"""The supervisors' statistics: the dashboard (numbers, funnel, charts with their data tables, per-partner
table) and CSV exports with small numbers suppressed (design rule 10). Numbers come from stats.reading."""

import csv
from datetime import date

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from audit.actions import record
from core.formats import duration, percent
from core.periods import DAY, Period, month_start, today
from partners.models import Partner
from staff import roles
from staff.decorators import role_required
from stats import charts, reading, suppression, web_addresses
from stats.forms import EARLIEST, LATEST, MonthForm, PeriodForm

VIEWERS = (roles.SUPERVISOR, roles.ADMINISTRATOR)
SERIES = (("shared", "Shared with partners"), ("matched", "Matched"), ("actioned", "Blocked or removed"))


def chosen(request):
    """(form, period, partners, bucket) from the query string, or the last 12 weeks for all partners."""
    form = PeriodForm(request.GET if "first" in request.GET else None, initial=PeriodForm.initial_values())
    values = form.cleaned_data if form.is_bound and form.is_valid() else PeriodForm.initial_values()
    partners = [values["partner"]] if values.get("partner") else list(Partner.objects.order_by("name"))
    return form, Period(values["first"], values["last"]), partners, values.get("bucket") or "week"


# The headline's rates, each with the count it rests on: (rate, numerator, denominator, what the denominator
# counts), as in reading.partner_numbers' rows.
HEADLINE = (("removal_rate", "actioned", "reviewed", "reviewed"),
            ("within_48h", "actioned_within_48h", "actioned_after_sharing", "actioned after sharing"))


def rate_of(rate, count, counted):
    """A rate with the count it rests on, "75% of 4 reviewed"; "—" where there is nothing to divide by."""
    return "—" if rate is None else f"{percent(rate)} of {count} {counted}"


@role_required(*VIEWERS)
def dashboard(request):
    form, period, partners, bucket = chosen(request)
    table = reading.partner_numbers(period, partners)
    total = table.pop("all")
    intake = reading.intake(period)
    series = reading.series(period, partners, bucket)
    slugs = {p.name: p.slug for p in partners}
    rows = [{"name": name, "slug": slugs[name], "drills": [(n, row[n]) for n in ("matched", "reviewed", "actioned")],
             **row, "removal": percent(row["removal_rate"]), "within": percent(row["within_48h"]),
             "to_action": duration(row["to_action_median"]), "to_action_p90": duration(row["to_action_p90"]),
             "to_match": duration(row["to_match_median"])} for name, row in table.items()]
    return render(request, "stats/dashboard.html", {
        "form": form, "period": period, "bucket": bucket, "total": total, "intake": intake, "rows": rows,
        "headline": {rate: rate_of(total[rate], total[denominator], counted)
                     for rate, _numerator, denominator, counted in HEADLINE},
        "to_action": duration(total["to_action_median"]), "to_action_p90": duration(total["to_action_p90"]),
        "to_match": duration(total["to_match_median"]), "match_to_action": duration(total["match_to_action_median"]),
        "funnel": charts.funnel([("Hashes received", intake["hashes_received"]), ("Shared with partners",
                                 total["shared"]), ("Matched", total["matched"]), ("Blocked or removed",
                                                                                   total["actioned"])]),
        "charts": [charts.bars(number, label, series) for number, label in SERIES],
        "series": series,
        "query": request.GET.urlencode(),
        "can_drill": request.user.has_role(roles.SUPERVISOR),
        "web_addresses": web_addresses.dashboard(period),
    }, status=400 if form.errors else 200)


COUNTS = ("shared", "matched", "reviewed", "actioned")
BREAKDOWNS = {"contacts_by_channel": "contacts", "contacts_by_outcome": "contacts", "referrals_by_service": "referrals",
              "referrals_by_status": "referrals", "cases_by_abuse_type": "cases", "items_by_kind": "items"}


def published_partners(table):
    """{partner or "all": {field: text}}: reading.partner_numbers' table as it may leave the portal (design rule
    10, stats.suppression): the partners add up to "all" in each count; the removal rate is actioned ÷ reviewed,
    the share within 48 hours and the times are over the actions after sharing.

    The "all" row also has the headline: its rates with the count each rests on ("76% of 17 reviewed"). That
    prints how many of all partners' actions came after sharing, and with the share how many of those were
    within 48 hours, and so how many later: all three are counts of the output (a small number later, hidden,
    takes the share with it), though only the first is printed."""
    counts = {(name, k): row[k] for name, row in table.items()
              for k in (*COUNTS, "actioned_after_sharing", "actioned_within_48h")}
    everyone = table["all"]
    counts[("all", "actioned_later")] = everyone["actioned_after_sharing"] - everyone["actioned_within_48h"]
    partners = [name for name in table if name != "all"]
    sums = [(("all", k), [(name, k) for name in partners]) for k in COUNTS]
    sums.append((("all", "actioned_after_sharing"), [("all", "actioned_within_48h"), ("all", "actioned_later")]))
    shown = suppression.suppress(counts, sums, unpublished={key for key in counts
                                                            if key[0] != "all" and key[1] not in COUNTS})
    published = {name: {
        **{k: shown.count((name, k)) for k in COUNTS},
        "removal": shown.rate((name, "actioned"), (name, "reviewed"), percent(row["removal_rate"])),
        "to_action": shown.over((name, "actioned_after_sharing"), duration(row["to_action_median"])),
        "to_action_p90": shown.over((name, "actioned_after_sharing"), duration(row["to_action_p90"])),
        "within": shown.rate((name, "actioned_within_48h"), (name, "actioned_after_sharing"),
                             percent(row["within_48h"])),
    } for name, row in table.items()}
    published["all"]["headline"] = {
        rate: shown.rate(("all", numerator), ("all", denominator),
                         rate_of(everyone[rate], shown.count(("all", denominator)), counted))
        for rate, numerator, denominator, counted in HEADLINE}
    return published


def published_intake(intake):
    """[(number, breakdown, text)]: reading.intake's counts as they may leave the portal. Each breakdown adds up
    to its total: contacts and cases are shown, referrals and items are not (but two breakdowns of one total
    still tie each other)."""
    counts = {(number, ""): intake[number] for number in ("contacts", "cases", "hashes_received", "withdrawals")}
    counts |= {("referrals", ""): sum(intake["referrals_by_service"].values()),
               ("items", ""): sum(intake["items_by_kind"].values())}
    counts |= {(number, breakdown): count for number in BREAKDOWNS for breakdown, count in intake[number].items()}
    shown = suppression.suppress(counts, [((total, ""), [(number, b) for b in intake[number]])
                                          for number, total in BREAKDOWNS.items()],
                                 unpublished={("referrals", ""), ("items", "")})
    return [(number, breakdown, shown.count((number, breakdown))) for number, breakdown in counts
            if number not in ("referrals", "items")]


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
        for name, row in published_partners(reading.partner_numbers(period, partners)).items():
            out.writerow([name, *(row[k] for k in (*COUNTS, "removal", "to_action", "to_action_p90", "within"))])
    elif table == "series":
        out.writerow(["period", "shared", "matched", "reviewed", "actioned"])
        series = reading.series(period, partners, bucket)
        shown = suppression.suppress({(label, k): values[k] for label, values in series for k in COUNTS})
        for label, _values in series:
            out.writerow([label, *(shown.count((label, k)) for k in COUNTS)])
    elif table == "intake":
        out.writerow(["number", "breakdown", "count"])
        for number, breakdown, text in published_intake(reading.intake(period)):
            out.writerow([number, breakdown or ("(none)" if number in BREAKDOWNS else ""), text])
    elif table == "web-addresses":
        out.writerow(["site", "domain", "kind", *web_addresses.HEADINGS])
        out.writerows(web_addresses.csv_rows(period))
    else:
        return HttpResponse("No such table: choose partners, series, intake or web-addresses.", status=404,
                            content_type="text/plain")
    return response


DRILLABLE = {"matched": "Matched", "reviewed": "Reviewed", "actioned": "Blocked or removed"}


@role_required(roles.SUPERVISOR)
def drill_down(request, slug, number):
    """The cases behind one partner's number: supervisors only (they see every case), and audited."""
    if number not in DRILLABLE:
        return HttpResponse("Choose matched, reviewed or actioned.", status=404, content_type="text/plain")
    partner = get_object_or_404(Partner, slug=slug)
    _form, period, _partners, _bucket = chosen(request)
    cases = list(reading.cases_behind(period, partner, number))
    record("stats.drill_down", actor=request.user, target=partner, details={
        "number": number, "first": period.first.isoformat(), "last": period.last.isoformat(), "cases": len(cases)})
    return render(request, "stats/drill_down.html", {"partner": partner, "label": DRILLABLE[number],
                                                     "period": period, "cases": cases})


@role_required(*VIEWERS)
def monthly_report(request, year, month):
    """A month on one printable page, fit to leave the portal: small numbers suppressed so that none can be worked
    back out (design rule 10, stats.suppression). On screen, a month picker and the months either side (up to
    this one); printed, only the report."""
    if not (EARLIEST.year <= year <= LATEST.year and 1 <= month <= 12):
        return HttpResponse("No such month.", status=404, content_type="text/plain")
    period = Period.month(date(year, month, 1))
    table = published_partners(reading.partner_numbers(period, list(Partner.objects.order_by("name"))))
    rows = [[name, *(row[k] for k in (*COUNTS, "removal", "to_action", "within"))] for name, row in table.items()]
    # The intake numbers as the month's intake CSV shows them, so the two cannot be played against each other.
    intake = {number: text for number, breakdown, text in published_intake(reading.intake(period)) if not breakdown}
    previous, following = month_start(period.first - DAY), period.last + DAY
    return render(request, "stats/monthly_report.html", {
        "period": period, "rows": rows, "headline": table["all"]["headline"],
        "intake": [(label, intake[key]) for key, label in (
            ("contacts", "Contacts"), ("cases", "Cases opened"), ("hashes_received", "Hashes received"),
            ("withdrawals", "Withdrawals"))],
        "picker": MonthForm(initial={"month": period.first}),
        "previous": previous if previous >= EARLIEST else None,
        "following": following if following <= month_start(today()) else None,
        "web_addresses": web_addresses.report_rows(period)})


@role_required(*VIEWERS)
def monthly_report_pick(request):
    """The month picker's answer: that month's report (without a month, this month's)."""
    form = MonthForm(request.GET if "month" in request.GET else {"month": f"{today():%Y-%m}"})
    if not form.is_valid():
        return HttpResponse(" ".join(form.errors["month"]), status=400, content_type="text/plain")
    first = form.cleaned_data["month"]
    return redirect("stats_monthly_report", first.year, first.month)
