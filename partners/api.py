"""The partner API, native flavour (/api/v1/). Thin: authentication, parameters and errors here, the work in
partners.feed and partners.actions. Errors are JSON {"error", "field"}."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from partners import actions, feed, stopncii
from partners.models import ApiKey

MAX_LIMIT = 5000


def error(message, status, field=None):
    return JsonResponse({"error": message, "field": field}, status=status)


def bearer(request):
    """(public id, secret) from "Authorization: Bearer <public id>.<secret>"."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or "." not in token:
        return None, None
    public_id, _, secret = token.strip().partition(".")
    return public_id, secret


def stopncii_headers(request):
    """(public id, secret) as the threatexchange client sends them."""
    return request.headers.get("Ocp-Apim-Subscription-Key"), request.headers.get("x-functions-key")


def keyed(scope, credentials=bearer):
    def decorator(view):
        def wrapped(request, *args, **kwargs):
            try:
                key = actions.authenticate(*credentials(request), scope=scope, request=request)
            except actions.PartnerError as refusal:
                return error(refusal.message, refusal.status)
            return view(request, key, *args, **kwargs)

        wrapped.__name__ = view.__name__
        return csrf_exempt(wrapped)

    return decorator


@require_GET
@keyed(ApiKey.Scope.FETCH)
def hashes(request, key):
    """GET /api/v1/hashes?cursor=&limit= — the delta feed in the bank's change order."""
    if not key.partner.receives_hashes:
        return error("Partners in integration receive only the sandbox feed, not real hashes.", 403)
    try:
        limit = int(request.GET.get("limit", 1000))
    except ValueError:
        return error("limit must be a whole number.", 400, "limit")
    if not 1 <= limit <= MAX_LIMIT:
        return error(f"limit must be from 1 to {MAX_LIMIT}.", 400, "limit")
    try:
        position = feed.decode_cursor(request.GET.get("cursor", ""))
    except ValueError as bad:
        return error(str(bad), 400, "cursor")
    records, position, has_more = feed.page(key.partner, position, limit)
    return JsonResponse({"records": records, "cursor": feed.encode_cursor(position), "has_more": has_more})


@require_GET
@keyed(ApiKey.Scope.FETCH, credentials=stopncii_headers)
def stopncii_fetch_hashes(request, key):
    """GET /api/stopncii/v1/FetchHashes?startTimestamp=&pageSize=&nextPageToken= — as StopNCII answers it."""
    if not key.partner.receives_hashes:
        return error("Partners in integration receive only the sandbox feed, not real hashes.", 403)
    try:
        start = int(request.GET.get("startTimestamp", 0))
    except ValueError:
        return error("startTimestamp must be whole unix seconds.", 400, "startTimestamp")
    try:
        page_size = int(request.GET.get("pageSize", 800))
    except ValueError:
        return error("pageSize must be a whole number.", 400, "pageSize")
    if not 1 <= page_size <= MAX_LIMIT:
        return error(f"pageSize must be from 1 to {MAX_LIMIT}.", 400, "pageSize")
    if not 0 <= start <= 2**33:
        return error("startTimestamp is out of range.", 400, "startTimestamp")
    try:
        body = stopncii.fetch(key.partner, start=start, page_size=page_size,
                              token=request.GET.get("nextPageToken", ""))
    except ValueError as bad:
        return error(str(bad), 400, "nextPageToken")
    return JsonResponse(body)
