from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from core.errors import Refusal
from staff import actions, roles
from staff.decorators import Saved, object_action, role_required
from staff.forms import InviteForm, RolesForm
from staff.models import User


def person_page(person):
    return reverse("staff_detail", args=[person.pk])


@role_required(roles.ADMINISTRATOR)
def staff_list(request):
    people = User.objects.prefetch_related("groups").order_by("-is_active", "email")
    return render(request, "staff/list.html", {"people": people})


@role_required(roles.ADMINISTRATOR, forms=True)
def staff_invite(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = actions.invite_staff(
            request, email=form.cleaned_data["email"], name=form.cleaned_data["name"],
            role_names=form.cleaned_data["roles"], by=request.user,
        )
        return Saved(f"Invitation sent to {person.email}.", to=person_page(person))
    return render(request, "staff/invite.html", {"form": form}, status=400 if form.errors else 200)


@role_required(roles.ADMINISTRATOR, forms=True)
def staff_detail(request, pk):
    person = get_object_or_404(User, pk=pk)
    form = RolesForm(request.POST or None, initial={"roles": sorted(person.roles)})
    if request.method == "POST" and form.is_valid():
        if person == request.user and roles.ADMINISTRATOR not in form.cleaned_data["roles"]:
            form.add_error("roles", "You cannot remove your own administrator role.")
        else:
            actions.set_roles(person, form.cleaned_data["roles"], by=request.user)
            return Saved("Roles saved.", section="roles-heading", to=person_page(person))
    return render(request, "staff/detail.html", {"person": person, "form": form},
                  status=400 if form.errors else 200)


person_action = object_action(roles.ADMINISTRATOR, key="pk", find=lambda request, pk: get_object_or_404(User, pk=pk),
                              back=person_page)


@person_action
def staff_deactivate(request, person):
    if person == request.user:
        raise Refusal("You cannot deactivate your own account.")
    actions.deactivate_staff(person, by=request.user)
    return Saved(f"{person} is deactivated and their sessions have ended.", section="account-heading")


@person_action
def staff_reactivate(request, person):
    actions.reactivate_staff(person, by=request.user)
    return Saved(f"{person} can sign in again.", section="account-heading")


@person_action
def staff_reset_mfa(request, person):
    actions.reset_authenticators(request, person, by=request.user)
    return Saved(f"{person}'s authenticators and password were removed; a set-password link was sent to "
                 f"{person.email}, and they must set up an authenticator at next sign-in.", section="account-heading")


@person_action
def staff_resend_invitation(request, person):
    if not person.is_active:
        raise Refusal("This account is deactivated: reactivate it first.", status=404)
    actions.resend_invitation(request, person, by=request.user)
    return Saved(f"A new set-password link was sent to {person.email}.", section="account-heading")
