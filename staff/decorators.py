from functools import wraps

from django.core.exceptions import PermissionDenied


def role_required(*allowed):
    """States which roles may use a staff view, and refuses everyone else with 403.

    The middleware has already required a login with MFA; this adds the role check. The roles are kept on
    the view (view.allowed_roles) so tests can read them.
    """

    from staff.roles import ANY

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if ANY not in allowed and not request.user.has_role(*allowed):
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = frozenset(allowed)
        return wrapped

    return decorator


def passive(view):
    """Marks a view that pages call in the background (a live view's polling): it does not count as activity,
    so it never keeps an idle staff session alive (staff.middleware.SessionLifetimeMiddleware)."""
    view.passive = True
    return view
