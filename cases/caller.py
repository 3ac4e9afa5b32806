"""What every caller page does (design rule 8): the caller's language, and headers for a device someone else
may hold: never cached, never indexed, no referrer beyond our own origin."""

from functools import wraps

from django.conf import settings
from django.http import HttpResponse
from django.utils import translation
from django.utils.cache import add_never_cache_headers

LANGUAGE_SESSION_KEY = "caller_language"
# The page script (cases/static/cases/one_entry.js) posts forms itself, so as to replace the tab's history entry
# rather than add one. It cannot see a redirect (fetch follows it, fetching the next page twice), so a redirect
# it asked for comes back as 204 with the address, and the script goes there with location.replace.
REPLACE_ENTRY = "X-Replace-Entry"


def caller_language(request):
    """?lang= when the caller picks one (remembered for the visit), else the one picked before, else English."""
    available = dict(settings.LANGUAGES)
    picked = request.GET.get("lang")
    if picked in available:
        request.session[LANGUAGE_SESSION_KEY] = picked
        return picked
    remembered = request.session.get(LANGUAGE_SESSION_KEY)
    return remembered if remembered in available else settings.LANGUAGE_CODE


def caller_page(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        language = caller_language(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        if request.headers.get(REPLACE_ENTRY) and response.status_code in (301, 302, 303):
            redirect, response = response, HttpResponse(status=204)
            response[f"{REPLACE_ENTRY}-Location"], response.cookies = redirect["Location"], redirect.cookies
        add_never_cache_headers(response)
        response["Cache-Control"] = "no-store, max-age=0"
        response["X-Robots-Tag"] = "noindex, nofollow"
        # Same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on POSTs, which CSRF
        # refuses; with same-origin nothing leaves our origin (and the quick exit adds rel=noreferrer).
        response["Referrer-Policy"] = "same-origin"
        response["Content-Language"] = language
        return response

    wrapped.caller_page = True
    return wrapped
