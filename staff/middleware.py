import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect

from core import access

STARTED = "staff_session_started"
SEEN = "staff_session_seen"


class SessionLifetimeMiddleware:
    """Ends a staff session after SESSION_IDLE_TIMEOUT of inactivity or SESSION_MAX_AGE in all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            started = request.session.setdefault(STARTED, now)
            seen = request.session.get(SEEN, now)
            if now - seen > settings.SESSION_IDLE_TIMEOUT or now - started > settings.SESSION_MAX_AGE:
                logout(request)
                messages.info(request, "You were signed out because your session expired. Please sign in again.")
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Background polling (staff.decorators.passive) is not activity: an idle session still ends.
        if request.user.is_authenticated and not getattr(view_func, "passive", False):
            now = time.time()
            if now - request.session.get(SEEN, 0) > 30:
                request.session[SEEN] = now
        return None


class StaffAccessMiddleware:
    """Closes every route that core.access does not declare public.

    A closed route needs a signed-in staff member with an authenticator (TOTP or WebAuthn); one without is
    sent to set one up before any other page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if access.is_public(match):
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if match.url_name in access.ENROLMENT_URL_NAMES and not match.namespace:
            return None
        if not request.user.has_authenticator():
            messages.warning(request, "Set up two-factor authentication before you continue.")
            return redirect("mfa_activate_totp")
        return None
