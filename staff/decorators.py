"""How a staff view is reached and how a staff form ends: who may use it (role_required), a form POST on a page
(object_action), what a POST did (Saved: post/redirect/get with a message, an anchor and values shown once)."""

from dataclasses import dataclass, field
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect

from core.errors import Refusal
from staff.roles import ANY

ONCE = "staff_shown_once"  # the session key of values a POST left for the next page
READS = ("GET", "HEAD")


@dataclass
class Saved:
    """What a staff form POST did, for the page it goes back to: `message` says it, `section` is the anchor of
    the part of the page it changed, `once` holds values that page shows once (a new key's secret, a hashing
    link's code: the portal keeps only digests, so nothing can show them again). `to` is the page's address;
    an object_action fills in its object's page."""

    message: str
    section: str = ""
    once: dict = field(default_factory=dict)
    to: str = ""


def after_post(request, saved):
    """The one place a staff form POST ends (post/redirect/get): to `saved.to#section`, with the message, and
    the values shown once carried in the session to that page. A reload then reloads the page, never the form."""
    messages.success(request, saved.message)
    if saved.once:
        request.session[ONCE] = {"to": saved.to, "values": saved.once}
    return redirect(saved.to + (f"#{saved.section}" if saved.section else ""))


def take_once(request):
    """The values the last POST left for this page, on this render only: taken out of the session by the next
    staff page whatever it is, so a reload, or any other page, no longer has them."""
    pending = request.session.pop(ONCE, None)
    return pending["values"] if pending and pending["to"] == request.path else {}


def role_required(*allowed, forms=False):
    """States which roles may use a staff view, and refuses everyone else with 403.

    The middleware has already required a login with MFA; this adds the role check. The roles are kept on
    the view (view.allowed_roles) so tests can read them. A view that takes no form (`forms` false) refuses
    a POST with 405. A view may return a Saved (after_post answers it); `request.once` holds what the last
    POST left for this page to show once (take_once), and a page showing any is never cached.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if ANY not in allowed and not request.user.has_role(*allowed):
                raise PermissionDenied("Your role does not give access to this page.")
            if not forms and request.method not in READS:
                return HttpResponse("This page takes no form.", status=405, content_type="text/plain",
                                    headers={"Allow": ", ".join(READS)})
            # Background polling (passive) must not take what the page it polls for has still to show.
            passive = getattr(wrapped, "passive", False)
            request.once = take_once(request) if request.method == "GET" and not passive else {}
            response = view(request, *args, **kwargs)
            if isinstance(response, Saved):
                return after_post(request, response)
            if request.once:
                response["Cache-Control"] = "no-store"  # a secret shown once must stay in no cache
            return response

        wrapped.allowed_roles = frozenset(allowed)
        return wrapped

    return decorator


def object_action(*allowed, key=None, find=None, page=None, back):
    """A form POST on a page, by these roles: on an object's page (a case's, a partner's) when `key` names the URL
    argument that `find(request, value)` turns into the object, or into a response refusing it; the view gets
    the object (and the URL's other arguments). `back(object)` is the page's address.

    The view returns a Saved (role_required answers it with a redirect back, after_post; None is a plain
    "Saved."), or a response of its own (a form with its errors). A Refusal it raises shows the page again,
    `page(request, object, status=, error=)`, with its message; with no `page`, it goes back with the message.
    A GET here (an address typed or followed) goes to the page: it changes nothing, and is no blank 405."""

    def decorator(view):
        @role_required(*allowed, forms=True)
        @wraps(view)
        def wrapped(request, **arguments):
            found = find(request, arguments.pop(key)) if key else None
            if isinstance(found, HttpResponseBase):
                return found
            if request.method in READS:
                return redirect(back(found))
            if request.method != "POST":
                return HttpResponse("This address takes a form only.", status=405, content_type="text/plain",
                                    headers={"Allow": "GET, HEAD, POST"})
            try:
                result = view(request, *([found] if key else []), **arguments)
            except Refusal as refusal:
                if page is None:
                    messages.error(request, refusal.message)
                    return redirect(back(found))
                return page(request, found, status=refusal.status, error=refusal.message)
            if result is None:
                result = Saved("Saved.")  # a view that says nothing of its own
            if isinstance(result, Saved) and not result.to:
                result.to = back(found)
            return result

        return wrapped

    return decorator


def passive(view):
    """Marks a view that pages call in the background (a live view's polling): it does not count as activity,
    so it never keeps an idle staff session alive (staff.middleware.SessionLifetimeMiddleware)."""
    view.passive = True
    return view
