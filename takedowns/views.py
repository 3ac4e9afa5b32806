"""The caseworker's takedown pages: a case's web addresses and requests (a staff case screen: who may open it is
the case's rule, and each view is audited like the case's), a request as the site received it, and the site
directory. Thin: the work is in takedowns.actions; a site's record is the statistics' (its template asks stats)."""

import re
from itertools import groupby

from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from audit.actions import record
from cases import access
from cases.views import CASE_ROLES, workable
from core.errors import Refusal
from staff import roles
from staff.decorators import Saved, object_action, role_required
from takedowns import actions
from takedowns.forms import (
    EscalateForm,
    OutcomeForm,
    PasteForm,
    RemindForm,
    RequestForm,
    SiteFilterForm,
    SiteForm,
)
from takedowns.models import Address, AddressOutcome, Site, TakedownRequest

NUMBER = re.compile(r"[0-9]{1,12}")
SITE_EDITORS = (roles.CASEWORKER, roles.SUPERVISOR, roles.PARTNER_MANAGER, roles.ADMINISTRATOR)
PAGE_SIZE = 50


def audited_view(request, case, action, details=None):
    """One audit row per view of a screen showing a case's web addresses, with the reason if it was opened by
    reference (cases.access)."""
    grant = None if access.is_own(request.user, case) else access.current_grant(request, case)
    record(action, target=case, details={**(details or {}), **({"reason": grant["reason"]} if grant else {})})


# --- A case's web addresses -----------------------------------------------------------------------------------


def addresses_page(request, case, *, status=200, error=None, pasted=None, paste_form=None):
    audited_view(request, case, "case.web_addresses_viewed")
    latest = AddressOutcome.objects.filter(address=OuterRef("pk")).order_by("-at", "-id")
    addresses = list(case.web_addresses.live().select_related("site")
                     .annotate(asked=Count("requests"), reason=Subquery(latest.values("reason")[:1]))
                     .order_by("site__name", "site_id", "added", "id"))
    requests = list(case.takedown_requests.select_related("site").annotate(named=Count("addresses")))
    return render(request, "takedowns/case.html", {
        "case": case,
        "error": error,
        "pasted": pasted,
        "paste_form": paste_form or PasteForm(),
        # Each site's forms get their own element ids, so each label names its own field.
        "sites": [(site, list(rows), RequestForm(auto_id=f"site{site.pk}-request-%s",
                                                 partner_site=site.partner_id is not None),
                   OutcomeForm(auto_id=f"site{site.pk}-outcome-%s"))
                  for site, rows in groupby(addresses, key=lambda a: a.site)],
        "requests": requests,
        "withdrawn": case.is_withdrawn,
    }, status=status)


@role_required(*CASE_ROLES)
def case_addresses(request, reference):
    case = workable(request, reference)
    if isinstance(case, HttpResponseBase):
        return case  # the page refusing it
    return addresses_page(request, case)


takedown_action = object_action(*CASE_ROLES, key="reference", find=workable, page=addresses_page,
                                back=lambda case: reverse("case_web_addresses", args=[case.reference]))


@takedown_action
def add_addresses(request, case):
    form = PasteForm(request.POST)
    if not form.is_valid():
        return addresses_page(request, case, status=400, paste_form=form)
    pasted = actions.add_addresses(case, form.cleaned_data["addresses"], by=request.user)
    if pasted.problems:
        # The lines that were not addresses stay in the box, to be corrected; the others are saved.
        again = PasteForm(initial={"addresses": "\n".join(line for _n, line, _why in pasted.problems)})
        return addresses_page(request, case, status=400, pasted=pasted, paste_form=again)
    return Saved(summary(pasted))


def summary(pasted):
    sites = len({a.site_id for a in pasted.added})
    text = f"Added {len(pasted.added)} address{'es' if len(pasted.added) != 1 else ''}"
    text += f" on {sites} site{'s' if sites != 1 else ''}" if pasted.added else ""
    return text + (f"; {pasted.merged} repeat{'s' if pasted.merged != 1 else ''} merged." if pasted.merged else ".")


@takedown_action
def remove_address(request, case, pk):
    actions.remove_address(get_object_or_404(Address, pk=pk, case=case), by=request.user)
    return Saved("The address was removed from the case.")


def chosen_addresses(request, case):
    ids = request.POST.getlist("address")
    if not all(NUMBER.fullmatch(i) for i in ids):
        raise Refusal("Choose addresses from the list.", status=400)
    return list(case.web_addresses.filter(pk__in=[int(i) for i in ids]).select_related("site"))


def form_refusal(form):
    field, errors = next(iter(form.errors.items()))
    label = form.fields[field].label if field in form.fields else ""
    return Refusal(f"{label}: {errors[0]}" if label else errors[0])


@takedown_action
def request_takedown(request, case):
    form = RequestForm(request.POST)
    if not form.is_valid():
        raise form_refusal(form)
    site_id = request.POST.get("site", "")
    site = get_object_or_404(Site, pk=int(site_id)) if NUMBER.fullmatch(site_id) else None
    if site is None:
        raise Refusal("Choose the site to ask.")
    sent = actions.request_takedown(case, site, chosen_addresses(request, case), by=request.user,
                                    **form.cleaned_data)
    return Saved(f"Request {sent.reference} to {site.name}: " + {
        TakedownRequest.Method.WEB_FORM: "recorded as sent through the site's web form.",
        TakedownRequest.Method.PARTNER: "sent to the partner alone, through its feed.",
    }.get(sent.method, "being sent by mail."))


@takedown_action
def record_outcome(request, case):
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        raise form_refusal(form)
    addresses = chosen_addresses(request, case)
    actions.record_outcome(case, addresses, form.cleaned_data["outcome"], reason=form.cleaned_data["reason"],
                           at=form.cleaned_data["at"], by=request.user)
    return Saved(f"Recorded for {len(addresses)} address{'es' if len(addresses) != 1 else ''}.")


# --- A request --------------------------------------------------------------------------------------------------


def request_page(request, case, pk, *, status=200, error=None):
    sent = get_object_or_404(TakedownRequest.objects.select_related("site__hosting_provider", "follows", "created_by"),
                             pk=pk, case=case)
    audited_view(request, case, "takedown_request.viewed", {"request": sent.pk})
    message, addresses = actions.compose(sent)
    return render(request, "takedowns/request.html", {
        "case": case, "sent": sent, "message": message, "error": error,
        "addresses": sent.addresses.live().order_by("url"),
        "outcomes": sent.outcomes.select_related("address", "recorded_by"),
        "follow_ups": sent.follow_ups.select_related("site"),
        "waiting": actions.still_waiting(sent).count() if sent.state == TakedownRequest.State.SENT else 0,
        "remind_form": RemindForm(), "escalate_form": EscalateForm(initial={
            "hosting_domain": sent.site.hosting_provider.domain if sent.site.hosting_provider else ""}),
    }, status=status)


@role_required(*CASE_ROLES)
def takedown_request(request, reference, pk):
    case = workable(request, reference)
    if isinstance(case, HttpResponseBase):
        return case
    return request_page(request, case, pk)


request_action = object_action(*CASE_ROLES, key="reference", find=workable,
                               page=lambda request, case, **kw: request_page(request, case, request.resolver_match
                                                                             .kwargs["pk"], **kw),
                               back=lambda case: reverse("case_web_addresses", args=[case.reference]))


def request_address(case, pk):
    return reverse("takedown_request", args=[case.reference, pk])


@request_action
def remind(request, case, pk):
    form = RemindForm(request.POST)
    if not form.is_valid():
        raise form_refusal(form)
    sent = actions.remind(get_object_or_404(TakedownRequest, pk=pk, case=case), by=request.user,
                          method=form.cleaned_data["method"])
    return Saved(f"Reminder {sent.reference} to {sent.site.name}.", to=request_address(case, sent.pk))


@request_action
def escalate(request, case, pk):
    form = EscalateForm(request.POST)
    if not form.is_valid():
        raise form_refusal(form)
    sent = actions.escalate(get_object_or_404(TakedownRequest, pk=pk, case=case), by=request.user,
                            hosting_domain=form.cleaned_data["hosting_domain"])
    return Saved(f"Escalation {sent.reference} to {sent.site.name}: being sent by mail.",
                 to=request_address(case, sent.pk))


@request_action
def send_again(request, case, pk):
    actions.send_again(get_object_or_404(TakedownRequest, pk=pk, case=case), by=request.user)
    return Saved("Sending it again.", to=request_address(case, pk))


# --- The site directory ------------------------------------------------------------------------------------------


def site_fields(form):
    data = dict(form.cleaned_data)
    hosting = data.pop("hosting_domain", "").strip()
    if hosting:
        data["hosting_provider"] = actions.sites_for([actions.site_domain(hosting)]).popitem()[1]
    return data


@role_required(*SITE_EDITORS, forms=True)
def site_list(request):
    form = SiteForm(request.POST or None, prefix="new")
    if request.method == "POST" and form.is_valid():
        try:
            site = actions.save_site(None, by=request.user, **site_fields(form))
        except Refusal as refusal:
            form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
        else:
            return Saved(f"{site.name} added to the directory.", to=reverse("site_detail", args=[site.pk]))
    filters = SiteFilterForm(request.GET or None)
    sites = Site.objects.select_related("partner").order_by("name", "id")
    if filters.is_valid():
        q, kind = filters.cleaned_data["q"].strip(), filters.cleaned_data["kind"]
        if q:
            sites = sites.filter(Q(name__icontains=q) | Q(domain__icontains=q.lower()))
        if kind:
            sites = sites.filter(kind=kind)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "takedowns/site_list.html", {
        "page": Paginator(sites, PAGE_SIZE).get_page(request.GET.get("page")), "filters": filters, "form": form,
        "query": query.urlencode(),
    }, status=400 if form.errors or filters.errors else 200)


@role_required(*SITE_EDITORS, forms=True)
def site_detail(request, pk):
    site = get_object_or_404(Site.objects.select_related("partner", "hosting_provider"), pk=pk)
    # The form fills its own copy as it validates: the page shows the site as saved, whatever was typed.
    form = SiteForm(request.POST or None, instance=Site.objects.get(pk=pk), initial={
        "hosting_domain": site.hosting_provider.domain if site.hosting_provider else ""})
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_site(Site.objects.get(pk=pk), by=request.user, **site_fields(form))
        except Refusal as refusal:
            form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
        else:
            return Saved("Saved.", to=reverse("site_detail", args=[pk]))
    return render(request, "takedowns/site_detail.html", {
        "site": site, "form": form,
        "sees_partners": request.user.has_role(roles.PARTNER_MANAGER, roles.ADMINISTRATOR),
        "hosted": site.hosted_sites.order_by("name")[:50],
    }, status=400 if form.errors else 200)

