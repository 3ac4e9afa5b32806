from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from staff import actions, roles
from staff.decorators import role_required
from staff.forms import InviteForm, RolesForm
from staff.models import User


@role_required(roles.ADMINISTRATOR)
def staff_list(request):
    people = User.objects.prefetch_related("groups").order_by("-is_active", "email")
    return render(request, "staff/list.html", {"people": people})


@role_required(roles.ADMINISTRATOR)
def staff_invite(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = actions.invite_staff(
            request, email=form.cleaned_data["email"], name=form.cleaned_data["name"],
            role_names=form.cleaned_data["roles"], by=request.user,
        )
        messages.success(request, f"Invitation sent to {person.email}.")
        return redirect("staff_detail", person.pk)
    return render(request, "staff/invite.html", {"form": form})


@role_required(roles.ADMINISTRATOR)
def staff_detail(request, pk):
    person = get_object_or_404(User, pk=pk)
    form = RolesForm(request.POST or None, initial={"roles": sorted(person.roles)})
    if request.method == "POST" and form.is_valid():
        if person == request.user and roles.ADMINISTRATOR not in form.cleaned_data["roles"]:
            messages.error(request, "You cannot remove your own administrator role.")
        else:
            actions.set_roles(person, form.cleaned_data["roles"], by=request.user)
            messages.success(request, "Roles saved.")
        return redirect("staff_detail", person.pk)
    return render(request, "staff/detail.html", {"person": person, "form": form})


@require_POST
@role_required(roles.ADMINISTRATOR)
def staff_deactivate(request, pk):
    person = get_object_or_404(User, pk=pk)
    if person == request.user:
        messages.error(request, "You cannot deactivate your own account.")
    else:
        actions.deactivate_staff(person, by=request.user)
        messages.success(request, f"{person} is deactivated and their sessions have ended.")
    return redirect("staff_detail", person.pk)


@require_POST
@role_required(roles.ADMINISTRATOR)
def staff_reactivate(request, pk):
    person = get_object_or_404(User, pk=pk)
    actions.reactivate_staff(person, by=request.user)
    messages.success(request, f"{person} can sign in again.")
    return redirect("staff_detail", person.pk)


@require_POST
@role_required(roles.ADMINISTRATOR)
def staff_reset_mfa(request, pk):
    person = get_object_or_404(User, pk=pk)
    actions.reset_authenticators(request, person, by=request.user)
    messages.success(request, f"{person}'s authenticators and password were removed; a set-password link was sent "
                              f"to {person.email}, and they must set up an authenticator at next sign-in.")
    return redirect("staff_detail", person.pk)


@require_POST
@role_required(roles.ADMINISTRATOR)
def staff_resend_invitation(request, pk):
    person = get_object_or_404(User, pk=pk, is_active=True)
    actions.resend_invitation(request, person, by=request.user)
    messages.success(request, f"A new set-password link was sent to {person.email}.")
    return redirect("staff_detail", person.pk)
