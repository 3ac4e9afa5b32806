import json
import re
import uuid
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse

# The current request's id and client IP, for audit rows written deep inside actions.
current_request = ContextVar("current_request", default=None)

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Gives every request an id (the proxy's X-Request-ID when it is sane) and remembers the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        token = current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


# What PostgreSQL cannot store as text: NUL, and lone UTF-16 surrogates (which JSON's \ud800 escapes can carry, and
# which no UTF-8 text holds). Reaching a query, either is a 500.
BROKEN_TEXT = re.compile("[\x00\ud800-\udfff]")
# In a JSON body they can only be escapes (\u0000, \ud800-\udfff) or, for UTF-16/32 bodies, bytes of NUL.
BROKEN_JSON = re.compile(rb"\\u(0000|[dD][89a-fA-F])|\x00")
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
API_PREFIX = "/api/"  # ncii_portal/urls.py
BROKEN_MESSAGE = ("The request holds a NUL character (\\u0000) or a broken character (a lone UTF-16 surrogate), "
                  "which no field here accepts. Remove it and try again.")


def broken_field(request):
    """Where the request carries broken text (BROKEN_TEXT), named for the person who sent it, or None.

    Checked here once, for the path, query string, cookies, form and JSON bodies of every request, rather than in
    each field's own checks.
    """
    if BROKEN_TEXT.search(request.path):
        return "path"
    fields = [("cookie", name, [value]) for name, value in request.COOKIES.items()]
    fields += [("query", name, values) for name, values in request.GET.lists()]
    # Form bodies, but not the partner API's: it takes JSON only and refuses anything else unread (415).
    if request.method != "GET" and request.content_type in FORMS and not request.path.startswith(API_PREFIX):
        fields += [("form", name, values) for name, values in request.POST.lists()]
    for source, name, values in fields:
        if BROKEN_TEXT.search(name) or any(BROKEN_TEXT.search(value) for value in values):
            return BROKEN_TEXT.sub("", name) or source
    if request.method != "GET" and request.content_type == "application/json":
        return broken_json_field(request)
    return None


def broken_json_field(request):
    """The JSON path of broken text in the body (e.g. "items[0].md5"), or None; a body that is not JSON, or too
    big to read, is left to the view, which says so."""
    length, limit = request.headers.get("Content-Length", ""), settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if not length.isdigit() or (limit is not None and int(length) > limit):
        return None
    if not BROKEN_JSON.search(request.body):
        return None
    try:
        document = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None

    def walk(value, where):
        if isinstance(value, str):
            return where or "body" if BROKEN_TEXT.search(value) else None
        pairs = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, inner in pairs:
            if isinstance(key, str) and BROKEN_TEXT.search(key):
                return where or "body"
            found = walk(inner, f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}" if where else key)
            if found:
                return found
        return None

    try:
        return walk(document, "")
    except RecursionError:
        return None


class RefuseBrokenTextMiddleware:
    """A 400 with a message for a NUL or a lone surrogate anywhere a request carries text (broken_field): JSON
    {"error", "field"} under /api/ and for JSON requests (as the partner API and the caller's page answer), plain
    text elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = broken_field(request)
        if field is None:
            return self.get_response(request)
        if request.path.startswith(API_PREFIX) or request.content_type == "application/json":
            response = JsonResponse({"error": BROKEN_MESSAGE, "field": field}, status=400)
        else:
            response = HttpResponseBadRequest(BROKEN_MESSAGE, content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = "no-store"
        return response
