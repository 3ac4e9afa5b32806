from audit.models import AuditClientIP, AuditEvent, AuditNote
from core.clientip import client_ip
from core.middleware import current_request


def record(action, *, actor=None, target=None, target_type="", target_id="", details=None, note="",
           actor_label="", request=None):
    """Write one audit row. Call from actions, never with caller data or free text in `details`.

    `target` may be a model instance (its class name and pk are recorded). `note` is free text, kept apart
    in AuditNote so it can be purged. The request (for IP and request id) is taken from the one in flight.
    """
    request = request or current_request.get()
    if target is not None:
        target_type = target_type or type(target).__name__
        target_id = target_id or str(target.pk)
    user = getattr(request, "user", None)
    if actor is None and user is not None and user.is_authenticated:
        actor = user
    if actor is None and not actor_label:
        actor_label = "anonymous" if request is not None else "system"
    # Callers are anonymous (design rules 3 and 6): their address is never recorded.
    ip = client_ip(request) if request is not None and actor_label != "caller" else None
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_label=actor_label,
        target_type=target_type,
        target_id=str(target_id),
        client_ip=AuditClientIP.objects.create(ip=ip) if ip else None,
        request_id=getattr(request, "request_id", "") if request is not None else "",
        details=details or {},
        note=AuditNote.objects.create(text=note) if note else None,
    )
