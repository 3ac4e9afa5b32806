"""The page every role lands on: panels from every app, for the roles the person holds. It sees all the apps, so
it lives in the project package; no app imports it."""

from django.shortcuts import render

from cases.views import dashboard_panels
from hashing.models import BankHash
from staff import roles
from staff.decorators import role_required
from takedowns.models import TakedownRequest


@role_required(roles.ANY)
def dashboard(request):
    casework = dashboard_panels(request.user) if request.user.has_role(roles.CASEWORKER, roles.SUPERVISOR) else {}
    return render(request, "staff/dashboard.html", {
        "roles": request.user.roles,
        "notifications": request.user.notifications.filter(read_at=None).select_related("case")[:20],
        # The flood quarantine's batch, for those who release or reject it, for as long as it waits.
        "quarantined": (BankHash.objects.quarantined().count()
                        if request.user.has_role(*roles.QUARANTINE_REVIEWERS) else 0),
        # Takedown requests beat found overdue on this person's cases, until they are followed up.
        "overdue_takedowns": (list(TakedownRequest.objects.for_attention().for_caseworker(request.user)
                                   .select_related("case", "site")[:20]) if casework else []),
        **casework,
    })
