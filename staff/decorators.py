from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBase
from django.views.decorators.http import require_POST

from core.errors import Refusal
from staff.roles import ANY


def role_required(*allowed):
    """States which roles may use a staff view, and refuses everyone else with 403.

    The middleware has already required a login with MFA; this adds the role check. The roles are kept on
    the view (view.allowed_roles) so tests can read them.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if ANY not in allowed and not request.user.has_role(*allowed):
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = frozenset(allowed)
        return wrapped

    return decorator


def object_action(*allowed, key, find, page, back):
    """A POST on an object's page (a case's, a partner's), by these roles. `find(request, <the URL's key>)` gives
    the object, or a response refusing it; the view gets the object (and the URL's other arguments) and returns a
    response, or None to go `back(object)`; a Refusal it raises shows the page again, `page(request, object,
    status=, error=)`, with its message."""

    def decorator(view):
        @require_POST
        @role_required(*allowed)
        @wraps(view)
        def wrapped(request, **arguments):
            found = find(request, arguments.pop(key))
            if isinstance(found, HttpResponseBase):
                return found
            try:
                result = view(request, found, **arguments)
            except Refusal as refusal:
                return page(request, found, status=refusal.status, error=refusal.message)
            return result or back(found)

        return wrapped

    return decorator


def passive(view):
    """Marks a view that pages call in the background (a live view's polling): it does not count as activity,
    so it never keeps an idle staff session alive (staff.middleware.SessionLifetimeMiddleware)."""
    view.passive = True
    return view
