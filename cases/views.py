"""The caseworker's side of the call: record the contact, open the case, send the link, watch hashes arrive."""

import base64

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit.actions import record
from cases import actions
from cases.forms import IntakeForm
from cases.models import Case, Contact, HashingLink, Notification, grouped, normalise_code
from staff import roles
from staff.decorators import passive, role_required

CASE_ROLES = (roles.CASEWORKER, roles.SUPERVISOR)


@role_required(*CASE_ROLES)
def contact_new(request):
    form = IntakeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        answers = {k: v for k, v in form.cleaned_data.items() if k not in ("channel", "language", "caller")}
        contact = actions.take_contact(by=request.user, channel=form.cleaned_data["channel"],
                                       language=form.cleaned_data["language"], caller=form.cleaned_data["caller"],
                                       **{k: v for k, v in answers.items() if v is not None})
        return redirect("contact_detail", contact.pk)
    return render(request, "cases/contact_new.html", {"form": form}, status=400 if form.errors else 200)


@role_required(*CASE_ROLES)
def contact_detail(request, pk):
    contact = get_object_or_404(Contact.objects.select_related("case", "taken_by"), pk=pk)
    return render(request, "cases/contact_detail.html", {
        "contact": contact, "referrals": contact.referrals.all(), "problem": contact.ineligible_because(),
    })


@require_POST
@role_required(*CASE_ROLES)
def contact_open_case(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    try:
        case = actions.open_case(contact, by=request.user)
    except actions.CallerError as error:
        messages.error(request, error.message)
        return redirect("contact_detail", contact.pk)
    return redirect("case_detail", case.reference)


def get_case(reference):
    return get_object_or_404(Case.objects.select_related("caseworker"), reference=normalise_code(reference))


def qr_data_uri(url):
    """The link as a QR code, drawn here (no third party), as an SVG data URI for an <img>."""
    svg = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


@role_required(*CASE_ROLES)
def case_detail(request, reference, new_link=None):
    case = get_case(reference)
    record("case.viewed", target=case)  # once per page view; the live view's polling is not a view
    Notification.objects.filter(case=case, recipient=request.user, read_at=None).update(read_at=timezone.now())
    return render(request, "cases/case_detail.html", {
        "case": case,
        "contacts": case.contacts.all(),
        "referrals": case.referrals.all(),
        "links": case.links.all()[:10],
        "new_link": new_link,
        "live": live_state(case),
    })


def live_state(case):
    """What the caseworker's page shows as hashes arrive: counts and warnings, never hashes, thumbnails or PIN."""
    items = list(case.items.all())
    return {
        "status": case.status,
        "status_label": case.get_status_display(),
        "counts": case.item_counts(),
        "low_quality": sum(1 for item in items if item.is_low_quality),
        "unreadable": sum(1 for item in items if item.unreadable),
        "items": [{"kind": item.kind, "pdq_quality": item.pdq_quality, "low_quality": item.is_low_quality,
                   "unreadable": item.unreadable, "received": item.created.isoformat()} for item in items],
        "links": [{"id": link.pk, "state": link.state} for link in case.links.all()[:10]],
    }


@passive
@role_required(*CASE_ROLES)
def case_live(request, reference):
    return JsonResponse(live_state(get_case(reference)))


@require_POST
@role_required(*CASE_ROLES)
def case_issue_link(request, reference):
    case = get_case(reference)
    try:
        link, code = actions.issue_link(case, by=request.user)
    except actions.CallerError as error:
        messages.error(request, error.message)
        return redirect("case_detail", case.reference)
    url = request.build_absolute_uri(reverse("caller:hash", args=[code]))
    # Shown in this response only: the portal keeps a digest of the code, so it cannot show it again.
    return case_detail(request, case.reference, new_link={
        "link": link, "url": url, "code": grouped(code, 5), "qr": qr_data_uri(url),
        "enter_url": request.build_absolute_uri(reverse("caller:enter_code")),
    })


@require_POST
@role_required(*CASE_ROLES)
def link_revoke(request, reference, pk):
    case = get_case(reference)
    link = get_object_or_404(HashingLink, pk=pk, case=case)
    actions.revoke_link(link, by=request.user)
    messages.success(request, "The link was cancelled.")
    return redirect("case_detail", case.reference)
