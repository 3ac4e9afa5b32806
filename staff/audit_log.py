"""The audit log's page, for supervisors and administrators: a staff page over the audit app's rows (audit itself
knows nothing of staff, so every app may record into it)."""

from django.core.paginator import Paginator
from django.shortcuts import render

from audit.models import AuditEvent
from staff import roles
from staff.audit_forms import AuditFilterForm
from staff.decorators import role_required


@role_required(roles.SUPERVISOR, roles.ADMINISTRATOR)
def event_list(request):
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.select_related("actor", "client_ip")
    if form.is_valid():
        events = form.filter(events)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/event_list.html", {"form": form, "page": page, "query": query.urlencode()})
