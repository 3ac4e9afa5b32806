"""What every caller page does (design rule 8): the caller's language, and headers for a device someone else
may hold: never cached, never indexed, no referrer beyond our own origin."""

from functools import wraps

from django.conf import settings
from django.http import HttpResponse
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

LANGUAGE_SESSION_KEY = "caller_language"
# The page script (cases/static/cases/one_entry.js) posts forms itself, so as to replace the tab's history entry
# rather than add one. It cannot see a redirect (fetch follows it, fetching the next page twice), so a redirect
# it asked for comes back as 204 with the address, and the script goes there with location.replace.
REPLACE_ENTRY = "X-Replace-Entry"


def caller_language(request):
    """?lang= when the caller picks one (remembered for the visit, in the session: no browser storage), else the
    one picked before (or carried by a caseworker's link, use_language), else the browser's preference, else
    English. Only the languages this helpline offers (settings.CALLER_LANGUAGES)."""
    picked = request.GET.get("lang")
    if picked in settings.CALLER_LANGUAGES:
        request.session[LANGUAGE_SESSION_KEY] = picked
        return picked
    remembered = request.session.get(LANGUAGE_SESSION_KEY)
    if remembered in settings.CALLER_LANGUAGES:
        return remembered
    return browser_language(request.headers.get("Accept-Language", ""))


def browser_language(header):
    """The first language of an Accept-Language header that is offered, by its tag or its base language
    ("en-US" → en-gb, "pt-BR" → pt, "ar-EG" → ar); else the helpline's own."""
    offered = settings.CALLER_LANGUAGES
    by_base = {}
    for code in offered:
        by_base.setdefault(code.split("-")[0], code)
    for tag, _quality in parse_accept_lang_header(header):  # Django cuts an overlong header
        tag = tag.lower()
        if tag in offered:
            return tag
        if tag.split("-")[0] in by_base:
            return by_base[tag.split("-")[0]]
    return settings.LANGUAGE_CODE


def picked_language(request):
    """The language the caller chose themselves during this visit, if any."""
    return request.session.get(LANGUAGE_SESSION_KEY)


def use_language(request, code):
    """Show this page, and the rest of the visit, in `code` (a caseworker's link carries the one picked on the
    call)."""
    if code in settings.CALLER_LANGUAGES:
        request.session[LANGUAGE_SESSION_KEY] = code
        request.LANGUAGE_CODE = code
        translation.activate(code)  # inside caller_page's override, which restores the previous one after


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
        response["Content-Language"] = request.LANGUAGE_CODE
        patch_vary_headers(response, ["Accept-Language"])
        return response

    wrapped.caller_page = True
    return wrapped
