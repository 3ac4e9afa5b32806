"""The caseworker's pages: record the contact, open the case, send the link, watch hashes arrive, work the case."""

import base64
import re

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from audit.actions import record
from cases import access, actions
from cases.forms import CaseFilterForm, EvidenceItemForm, IntakeForm, NoteForm, ReasonForm, ReferralForm
from cases.models import (
    Case,
    CaseEvent,
    CaseEvidence,
    Contact,
    EvidenceItem,
    HashingLink,
    Item,
    Notification,
    Referral,
    grouped,
    normalise_code,
    spoken,
)
from core import languages
from core.errors import Refusal
from staff import roles
from staff.decorators import Saved, object_action, passive, role_required
from staff.models import User

CASE_ROLES = (roles.CASEWORKER, roles.SUPERVISOR)
NUMBER = re.compile(r"[0-9]{1,9}")  # not str.isdigit, which also takes "²"
PAGE_SIZE = 50


# --- Contacts -----------------------------------------------------------------------------------------------


LAST_CHANNEL = "intake_channel"  # a caseworker on the chat line records chats: the next intake starts there


@role_required(*CASE_ROLES, forms=True)
def contact_new(request):
    """Record the contact; "Record and open the case" also opens the case when every answer allows one, and goes
    straight to it, unless the caller is in immediate danger: then the contact page's escalation comes first."""
    form = IntakeForm(request.POST or None,
                      initial={"channel": request.session.get(LAST_CHANNEL, Contact.Channel.PHONE)})
    if request.method == "POST" and form.is_valid():
        answers = {k: v for k, v in form.cleaned_data.items() if k not in ("channel", "language", "caller")}
        contact = actions.take_contact(by=request.user, channel=form.cleaned_data["channel"],
                                       language=form.cleaned_data["language"], caller=form.cleaned_data["caller"],
                                       **{k: v for k, v in answers.items() if v is not None})
        request.session[LAST_CHANNEL] = contact.channel
        if request.POST.get("open_case") == "yes" and not contact.ineligible_because():
            case = actions.open_case(contact, by=request.user)
            if not contact.immediate_danger:
                return Saved("Contact recorded and case opened.", to=case_page_address(case))
        return Saved("Contact recorded.", to=contact_page(contact))
    return render(request, "cases/contact_new.html", {"form": form}, status=400 if form.errors else 200)


@role_required(*CASE_ROLES)
def contact_detail(request, pk):
    contact = get_object_or_404(Contact.objects.select_related("case", "taken_by"), pk=pk)
    mine = access.sees_all(request.user) or contact.taken_by_id == request.user.pk
    grant = None
    if not mine and contact.case:
        grant = access.current_grant(request, contact.case) if not access.is_own(request.user, contact.case) else {}
    if not mine and grant is None:
        return render(request, "403.html", {"message": "This contact is not yours. Open its case by reference."},
                      status=403)
    record("contact.viewed", target=contact, details={"reason": grant["reason"]} if grant else {})
    return render(request, "cases/contact_detail.html", {
        "contact": contact, "referrals": contact.referrals.all(), "problem": contact.ineligible_because(),
    })


def contact_page(contact):
    return reverse("contact_detail", args=[contact.pk])


def own_contact(request, pk):
    """The contact, if this person took it or sees all; otherwise the page that says so."""
    contact = get_object_or_404(Contact, pk=pk)
    if not (access.sees_all(request.user) or contact.taken_by_id == request.user.pk):
        return render(request, "403.html", {"message": "Only the person who took this contact, or a supervisor, "
                                                       "can open its case."}, status=403)
    return contact


@object_action(*CASE_ROLES, key="pk", find=own_contact, back=contact_page)
def contact_open_case(request, contact):
    case = actions.open_case(contact, by=request.user)
    return Saved("Case opened.", to=case_page_address(case))


# --- The case list ------------------------------------------------------------------------------------------


@role_required(*CASE_ROLES)
def case_list(request):
    """Own and assigned cases for caseworkers, every case for supervisors; filters; 50 a page."""
    if request.GET.get("reference"):
        return find_by_reference(request, request.GET["reference"])
    sees_all = access.sees_all(request.user)
    staff = list(User.objects.active().filter(groups__name__in=CASE_ROLES).distinct().values_list("pk", "name",
                                                                                                    "email"))
    form = CaseFilterForm(request.GET or None,
                          staff_choices=[(pk, name or email) for pk, name, email in staff] if sees_all else ())
    cases = access.listed_cases(request.user).select_related("caseworker").order_by("-created", "-id")
    if form.is_valid():
        cases = filter_cases(cases, form, request.user)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = item_counts([case.pk for case in page])
    for case in page:
        case.counts = counts.get(case.pk, {})
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "cases/case_list.html", {
        "form": form, "page": page, "query": query.urlencode(), "sees_all": sees_all,
    }, status=400 if form.errors else 200)


def filter_cases(cases, form, user):
    data = form.cleaned_data
    if data.get("status"):
        cases = cases.filter(status=data["status"])
    if data.get("abuse_type"):
        cases = cases.filter(abuse_type=data["abuse_type"])
    assigned = data.get("assigned")
    if assigned == "me":
        cases = cases.filter(caseworker=user)
    elif assigned == "none":
        cases = cases.filter(caseworker=None)
    elif assigned:
        cases = cases.filter(caseworker_id=int(assigned))
    return cases.filter(form.days_q("created"))


def item_counts(case_ids):
    """{case id: {kind: count}} for a page of cases, in one query."""
    counts = {}
    for row in Item.objects.filter(case_id__in=case_ids).values("case_id", "kind").annotate(n=Count("id")):
        counts.setdefault(row["case_id"], {})[row["kind"]] = row["n"]
    return counts


def find_by_reference(request, typed):
    case = Case.objects.filter(reference=normalise_code(typed)).first()
    if case is None:
        messages.error(request, "No case has that reference. Check it with the caller.")
        return redirect("case_list")
    return redirect("case_detail", case.reference)


# --- The case page ------------------------------------------------------------------------------------------


def get_case(reference):
    return get_object_or_404(Case.objects.select_related("caseworker", "opened_by"),
                             reference=normalise_code(reference))


def workable_case(request, reference):
    """The case, if this person may work on it (own, assigned, supervisor, or opened with a reason)."""
    case = get_case(reference)
    if not access.may_work_on(request, case):
        return case, False
    return case, True


def qr_data_uri(url):
    """The link as a QR code, drawn here (no third party), as an SVG data URI for an <img>."""
    svg = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


@role_required(*CASE_ROLES)
def case_detail(request, reference):
    case, allowed = workable_case(request, reference)
    if not allowed:
        return redirect("case_open_by_reference", case.reference)
    return case_page(request, case)


def case_page_address(case):
    return reverse("case_detail", args=[case.reference])


def shown_link(request, case):
    """The hashing link "Send a hashing link" just made, as the page shows it this once (staff.decorators.Saved):
    its code and address, and the address drawn as a QR code."""
    new = request.once.get("new_link")
    link = new and case.links.filter(pk=new["link"]).first()
    if not link:
        return None
    return {**new, "link": link, "spoken": spoken(new["code"]), "qr": qr_data_uri(new["url"]),
            "language": link.language and languages.staff_label(link.language),
            "enter_url": request.build_absolute_uri(reverse("caller:enter_code"))}


def case_page(request, case, *, status=200, error=None):
    """Render the case page: one audit event per render (background polling is not a render)."""
    grant = None if access.is_own(request.user, case) else access.current_grant(request, case)
    details = {"reason": grant["reason"]} if grant else {}
    record("case.viewed", target=case, details=details)
    Notification.objects.filter(case=case, recipient=request.user, read_at=None).update(read_at=timezone.now())
    supervisor = access.sees_all(request.user)
    moves = [(move, Case.MOVE_REASONS.get(move, [])) for move, sources in Case.MOVES.items() if case.status in sources]
    return render(request, "cases/case_detail.html", {
        "case": case,
        "error": error,
        "new_link": shown_link(request, case),
        "live": live_state(case),
        "contacts": case.contacts.all(),
        "referrals": case.referrals.select_related("contact"),
        "evidence": case.evidence.select_related("changed_by"),
        "evidence_states": CaseEvidence.State.choices,
        "notes": case.notes.select_related("author"),
        "events": case.events.select_related("actor", "note"),
        "links": case.links.all()[:10],
        "moves": [(move, reasons) for move, reasons in moves if move not in Case.ENDING_MOVES],
        "ending_moves": [(move, reasons) for move, reasons in moves if move in Case.ENDING_MOVES],
        "note_form": NoteForm(),
        "referral_form": ReferralForm(),
        "assignees": User.objects.active().filter(groups__name__in=CASE_ROLES).distinct() if supervisor else (),
        "supervisor": supervisor,
        "by_reference": grant is not None,
        "link_languages": [(code, languages.staff_label(code)) for code in settings.CALLER_LANGUAGES],
    }, status=status)


def live_state(case):
    """What the caseworker's page shows as hashes arrive: counts and warnings, never hashes, thumbnails or PIN."""
    items = list(case.items.all())
    counts = dict.fromkeys(Item.Kind.values, 0)
    for item in items:
        counts[item.kind] += 1
    return {
        "status": case.status,
        "status_label": case.get_status_display(),
        "counts": counts,
        "low_quality": sum(1 for item in items if item.is_low_quality),
        "unreadable": sum(1 for item in items if item.unreadable),
        # Videos fingerprinted by their frames (vPDQ): counted, and their frames counted, never shown.
        "vpdq": sum(1 for item in items if item.frames),
        "items": [{"kind": item.kind, "pdq_quality": item.pdq_quality, "low_quality": item.is_low_quality,
                   "unreadable": item.unreadable, "frames": item.frames, "received": item.created.isoformat()}
                  for item in items],
        "links": [{"id": link.pk, "state": link.state} for link in case.links.all()[:10]],
    }


@passive
@role_required(*CASE_ROLES)
def case_live(request, reference):
    case, allowed = workable_case(request, reference)
    if not allowed:
        return JsonResponse({"error": "Open the case by its reference, with a reason, first."}, status=403)
    return JsonResponse(live_state(case))


@role_required(*CASE_ROLES, forms=True)
def case_open_by_reference(request, reference):
    """Someone else's case, by its exact reference: say why first. The reason goes with each view's audit row."""
    case = get_case(reference)
    if access.may_work_on(request, case):
        return redirect("case_detail", case.reference)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        access.grant(request, case, form.cleaned_data["reason"], form.cleaned_data["note"])
        return Saved("Case opened by its reference: each view of it is recorded with your reason.",
                     to=case_page_address(case))
    return render(request, "cases/open_by_reference.html", {"case": case, "form": form},
                  status=400 if form.errors else 403)


NOT_YOURS = "This case is not yours: open it by its reference, with a reason, before changing it."


def workable(request, reference):
    """The case, if this person may work on it; otherwise the page that says so."""
    case, allowed = workable_case(request, reference)
    return case if allowed else render(request, "403.html", {"message": NOT_YOURS}, status=403)


case_action = object_action(*CASE_ROLES, key="reference", find=workable, page=case_page, back=case_page_address)


@case_action
def case_issue_link(request, case):
    """A hashing link, or (purpose new_pin, the caller's identity checked on the call) a new-PIN link."""
    link, code = actions.issue_link(case, by=request.user,
                                    purpose=request.POST.get("purpose", HashingLink.Purpose.HASHING),
                                    caller_verified=request.POST.get("caller_verified") == "yes",
                                    language=request.POST.get("language", ""))
    url = request.build_absolute_uri(reverse("caller:hash", args=[code]))
    # The portal keeps a digest of the code: the page shows it this once, and a reload makes no second link.
    kind = "New-PIN link" if link.purpose == HashingLink.Purpose.NEW_PIN else "Hashing link"
    return Saved(f"{kind} ready: give the caller the code or the link.", section="new-link",
                 once={"new_link": {"link": link.pk, "url": url, "code": grouped(code, 5)}})


@case_action
def link_revoke(request, case, pk):
    actions.revoke_link(get_object_or_404(HashingLink, pk=pk, case=case), by=request.user)
    return Saved("The link was cancelled.", section="links-heading")


@case_action
def case_move(request, case):
    move = request.POST.get("move", "")
    if move in Case.ENDING_MOVES and request.POST.get("confirm") != "yes":
        raise Refusal(f"Nothing changed: tick “Yes, {move} this case” to confirm.")
    case = actions.move_case(case, move, by=request.user, reason=request.POST.get("reason", ""),
                             note=request.POST.get("note", "").strip())
    return Saved(f"Saved: the case is now {case.get_status_display().lower()}.", section="summary-heading")


@case_action
def case_assign(request, case):
    if not access.sees_all(request.user):
        raise Refusal("Only supervisors assign cases.", status=403)
    pk = request.POST.get("caseworker", "")
    caseworker = User.objects.filter(pk=int(pk)).first() if NUMBER.fullmatch(pk) else None
    if pk and caseworker is None:
        raise Refusal("Choose a caseworker from the list.")
    actions.assign_case(case, caseworker, by=request.user)
    return Saved(f"Assigned to {caseworker}." if caseworker else "Nobody is assigned now.", section="summary-heading")


@case_action
def case_checklist(request, case):
    """The whole checklist in one form: each line's state and note; only changed lines are recorded."""
    ids = {key.split("-", 1)[1] for key in request.POST if key.startswith("state-")}
    if not ids:
        raise Refusal("Nothing to save: the form had no checklist items.")
    if not all(NUMBER.fullmatch(i) for i in ids):
        raise Refusal("That checklist item is not on this case.", status=404)
    actions.answer_checklist(case, {
        int(i): (request.POST.get(f"state-{i}", ""), request.POST.get(f"note-{i}", "")) for i in ids
    }, by=request.user)
    return Saved("Checklist saved.", section="checklist-heading")


@case_action
def case_referral(request, case):
    actions.refer(case, request.POST.get("to", ""), status=request.POST.get("status", Referral.Status.SUGGESTED),
                  outcome=request.POST.get("outcome", ""), by=request.user)
    return Saved("Referral saved.", section="referrals-heading")


@case_action
def case_note(request, case):
    actions.add_note(case, request.POST.get("text", ""), by=request.user)
    return Saved("Note added.", section="notes-heading")


# --- The evidence checklist template (administrators) -------------------------------------------------------


@role_required(roles.ADMINISTRATOR, forms=True)
def evidence_template(request):
    form = EvidenceItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        item = EvidenceItem.objects.create(**form.cleaned_data)
        record("evidence_template.added", target=item)
        return Saved("Added. New cases get it; existing cases keep their checklist.", to=reverse("evidence_template"))
    return render(request, "cases/evidence_template.html", {
        "items": EvidenceItem.objects.all(), "form": form,
    }, status=400 if form.errors else 200)


@object_action(roles.ADMINISTRATOR, key="pk", find=lambda request, pk: get_object_or_404(EvidenceItem, pk=pk),
               back=lambda item: reverse("evidence_template"))
def evidence_template_item(request, item):
    form = EvidenceItemForm(request.POST)
    if not form.is_valid():
        raise Refusal("Give the item a label (at most 200 characters) and a position.")
    item.label, item.position = form.cleaned_data["label"], form.cleaned_data["position"]
    item.active = request.POST.get("active") == "on"
    item.save()
    record("evidence_template.changed", target=item, details={"active": item.active})
    return Saved("Saved. New cases get the change; existing cases keep their checklist.", section=f"label-{item.pk}")


# --- Dashboard panels ---------------------------------------------------------------------------------------


def dashboard_panels(user):
    """What the dashboard shows a caseworker or supervisor (ncii_portal.dashboard)."""
    open_statuses = (Case.Status.OPEN, Case.Status.HASHES_SUBMITTED, Case.Status.ACTIVE)
    mine = Case.objects.filter(caseworker=user, status__in=open_statuses).order_by("-created")
    panels = {
        "my_cases": list(mine[:20]),
        # Waiting on me: hashes arrived and nobody has made the case active yet.
        "waiting": list(mine.filter(status=Case.Status.HASHES_SUBMITTED)[:20]),
        "activity": list(CaseEvent.objects.filter(Q(case__caseworker=user) | Q(case__opened_by=user))
                         .exclude(actor=user).select_related("case", "actor").order_by("-at", "-id")[:15]),
    }
    if user.has_role(roles.SUPERVISOR):
        unassigned = Case.objects.filter(caseworker=None, status__in=open_statuses).order_by("created")
        panels["unassigned"] = list(unassigned[:20])
        panels["unassigned_count"] = unassigned.count()
    return panels
