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


NUL = "\x00"
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
NUL_MESSAGE = "The request holds a NUL character (\\u0000), which no field here accepts. Remove it and try again."


def nul_field(request):
    """Where the request carries a NUL character, named for the person who sent it, or None.

    PostgreSQL refuses NUL in text, so a NUL that reaches a query is a 500; refusing it here, once for the path,
    query string, cookies, form and JSON bodies of every request, spares each field its own check.
    """
    if NUL in request.path:
        return "path"
    fields = [("cookie", name, [value]) for name, value in request.COOKIES.items()]
    fields += [("query", name, values) for name, values in request.GET.lists()]
    if request.method != "GET" and request.content_type in FORMS:
        fields += [("form", name, values) for name, values in request.POST.lists()]
    for source, name, values in fields:
        if NUL in name or any(NUL in value for value in values):
            return name.replace(NUL, "") or source
    if request.method != "GET" and request.content_type == "application/json":
        return json_nul(request)
    return None


def json_nul(request):
    """The JSON path of a NUL in the body (e.g. "items[0].md5"), or None; a body that is not JSON, or too big to
    read, is left to the view, which says so."""
    length, limit = request.headers.get("Content-Length", ""), settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if not length.isdigit() or (limit is not None and int(length) > limit):
        return None
    body = request.body
    # JSON writes NUL as \u0000; bytes of NUL mean UTF-16 or UTF-32, which json.loads also reads.
    if b"\\u0000" not in body and b"\x00" not in body:
        return None
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None

    def walk(value, where):
        if isinstance(value, str):
            return where or "body" if NUL in value else None
        pairs = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, inner in pairs:
            if isinstance(key, str) and NUL in key:
                return where or "body"
            found = walk(inner, f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}" if where else key)
            if found:
                return found
        return None

    try:
        return walk(document, "")
    except RecursionError:
        return None


class RefuseNulMiddleware:
    """A 400 with a message for a NUL anywhere a request carries text (see nul_field): JSON {"error", "field"} under
    /api/ and for JSON requests (as the partner API and the caller's page answer), plain text elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = nul_field(request)
        if field is None:
            return self.get_response(request)
        if request.path.startswith("/api/") or request.content_type == "application/json":
            response = JsonResponse({"error": NUL_MESSAGE, "field": field}, status=400)
        else:
            response = HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = "no-store"
        return response
