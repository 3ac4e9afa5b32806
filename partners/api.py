"""The partner API (/api/v1/, its StopNCII flavour, the sandbox). Thin: authentication, parameters and errors
here, the work in partners.feed and partners.stopncii (the feeds, whose records and pages partners.records
builds), partners.handovers, partners.onboarding (keys) and partners.outcomes. Errors are JSON {"error", "field"}."""

import json
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from core.clientip import client_ip, quota_keys
from core.errors import Refusal, fields_under
from hashing import signal_types
from partners import addresses, feed, handovers, onboarding, outcomes, records, sandbox, stopncii
from partners.models import ApiKey, FeedPosition, Outcome

MAX_LIMIT = 5000
MAX_BODY = 4 * 1024 * 1024  # a report on a vPDQ carries its text: 580 kB for the longest (two hours)
MAX_REPORTS = 1000
NATIVE_OUTCOMES = {Outcome.Value.PENDING_REVIEW, Outcome.Value.BLOCKED, Outcome.Value.NOT_BLOCKED,
                   Outcome.Value.REMOVED}


def json_body(request):
    if request.content_type != "application/json":
        raise Refusal("Send JSON with Content-Type: application/json.", status=415)
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    body = request.read(MAX_BODY + 1)
    if length > MAX_BODY or len(body) > MAX_BODY:
        raise Refusal(f"The body is over {MAX_BODY // 1024} kB; send fewer reports per request.", status=413)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Refusal("The body is not valid JSON.") from None


def clean_tags(tags, field):
    if tags is None:
        return []
    if not isinstance(tags, list) or len(tags) > 20 or not all(
            isinstance(t, str) and len(t) <= 100 and t.isprintable() for t in tags):
        raise Refusal("tags must be a list of at most 20 printable strings of up to 100 characters.", field=field)
    return tags


def report_list(payload, key):
    reports = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(reports, list) or not reports:
        raise Refusal(f"Send a non-empty list in {key!r}.", field=key)
    if len(reports) > MAX_REPORTS:
        raise Refusal(f"At most {MAX_REPORTS} reports per request.", status=413, field=key)
    return reports


def error(message, status, field=None):
    return JsonResponse({"error": message, "field": field}, status=status)


def allow(method):
    """Every endpoint's: only `method`, anything else a JSON 405 naming the one that works (not even HEAD for
    GET: a feed page read moves the partner's position); a Refusal the endpoint raises is its JSON error."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method != method:
                response = error(f"{request.method} is not allowed here; use {method}.", 405)
                response["Allow"] = method
                return response
            try:
                return view(request, *args, **kwargs)
            except Refusal as refusal:
                return error(refusal.message, refusal.status, refusal.field)

        return csrf_exempt(wrapped)

    return decorator


@csrf_exempt  # a POST to a wrong path deserves the JSON 404, not CSRF's page
def not_found(request, path=""):
    """Any other path under /api/: a JSON 404, not the staff site's login page. A page that exists with a
    trailing slash (/api/docs) is redirected there, as APPEND_SLASH would have."""
    if not request.path.endswith("/") and request.method in ("GET", "HEAD"):
        try:
            if resolve(request.path + "/").url_name != "not_found":
                return HttpResponsePermanentRedirect(request.path + "/")
        except Resolver404:
            pass
    return error(f"No API endpoint at {request.path}; see /api/docs/.", 404)


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


def too_many(message, wait):
    response = error(f"{message} Retry after {wait} s.", 429)
    response["Retry-After"] = str(wait)
    return response


def over_rate(key):
    """Seconds to wait when this key has used its requests for the current minute (shared cache), else 0."""
    now = time.time()
    window = f"partner-api:{key.pk}:{int(now // 60)}"
    cache.add(window, 0, 120)
    try:
        used = cache.incr(window)
    except ValueError:
        cache.set(window, 1, 120)
        used = 1
    return 0 if used <= settings.PARTNER_API_REQUESTS_PER_MINUTE else max(1, int(60 - now % 60))


AUTH_FAILURE_WINDOW = 3600  # seconds from an address's first failed authentication


def auth_failure_keys(request):
    """Failures count against the client as the caller quotas see it: an IPv4 address, an IPv6 /64 (which one
    subscriber holds whole and can walk through freely)."""
    client, _share = quota_keys(client_ip(request))[0]
    return f"partner-api-auth:{client}", f"partner-api-auth-since:{client}"


def auth_locked(request):
    """Seconds until this address may try keys again, once it failed PARTNER_API_AUTH_FAILURES_PER_IP_PER_HOUR
    times within an hour of its first failure; else 0."""
    count_key, since_key = auth_failure_keys(request)
    found = cache.get_many([count_key, since_key])
    if found.get(count_key, 0) < settings.PARTNER_API_AUTH_FAILURES_PER_IP_PER_HOUR:
        return 0
    now = time.time()
    return max(1, int(found.get(since_key, now) + AUTH_FAILURE_WINDOW - now))


def note_auth_failure(request):
    count_key, since_key = auth_failure_keys(request)
    cache.add(since_key, time.time(), AUTH_FAILURE_WINDOW)
    cache.add(count_key, 0, AUTH_FAILURE_WINDOW)
    try:
        cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.set(count_key, 1, AUTH_FAILURE_WINDOW)


def keyed(scope, credentials=bearer, sandbox=False):
    def decorator(view):
        def wrapped(request, *args, **kwargs):
            # Checked before the key: once an address is over its failures, even a right key from it waits, or
            # guessing would go on, each right guess told apart by its answer (docs/api.md, "Keys").
            wait = auth_locked(request)
            if wait:
                return too_many(f"Too many failed authentications from your address "
                                f"({settings.PARTNER_API_AUTH_FAILURES_PER_IP_PER_HOUR} an hour).", wait)
            presented = credentials(request)
            try:
                key = onboarding.authenticate(*presented, scope=scope, request=request, sandbox=sandbox)
            except Refusal as refusal:
                if refusal.status == 401 and all(presented):  # a key that was tried, not one left out
                    note_auth_failure(request)
                raise
            wait = over_rate(key)
            if wait:
                return too_many(f"Rate limit: {settings.PARTNER_API_REQUESTS_PER_MINUTE} requests a minute per "
                                f"key.", wait)
            return view(request, key, *args, **kwargs)

        wrapped.__name__ = view.__name__
        return csrf_exempt(wrapped)

    return decorator


@contextmanager
def only_ours(field):
    """A cursor or page token we did not hand out (its decoder's ValueError): a refusal naming the parameter."""
    try:
        yield
    except ValueError as bad:
        raise Refusal(str(bad), field=field) from None


def limit_param(request, name="limit", default=1000):
    try:
        limit = int(request.GET.get(name, default))
    except ValueError:
        raise Refusal(f"{name} must be a whole number.", field=name) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise Refusal(f"{name} must be from 1 to {MAX_LIMIT}.", field=name)
    return limit


def start_param(request):
    try:
        start = int(request.GET.get("startTimestamp", 0))
    except ValueError:
        raise Refusal("startTimestamp must be whole unix seconds.", field="startTimestamp") from None
    if not 0 <= start <= 2**33:
        raise Refusal("startTimestamp is out of range.", field="startTimestamp")
    return start


@allow("GET")
@keyed(ApiKey.Scope.FETCH)
def hashes(request, key):
    """GET /api/v1/hashes?cursor=&limit= — the delta feed in the bank's change order, then the partner's own web
    addresses (partners.addresses) in theirs, within the one limit."""
    limit = limit_param(request)
    with only_ours("cursor"):
        position, at_address = feed.decode_cursors(request.GET.get("cursor", ""))
    start = position
    told, position, has_more = feed.page(key.partner, position, limit)
    urls, at_address, more_urls = addresses.page(key.partner, at_address, max(0, limit - len(told)))
    handovers.note_fetch(key.partner, FeedPosition.Route.NATIVE, txid=position[0], change_id=position[1],
                         address_txid=at_address[0], address_row=at_address[1], moved=position != start)
    return JsonResponse(records.native_page(told + urls, feed.encode_cursor(position, at_address),
                                            has_more or more_urls))


@allow("GET")
@keyed(ApiKey.Scope.FETCH, credentials=stopncii_headers)
def stopncii_fetch_hashes(request, key):
    """GET /api/stopncii/v1/FetchHashes?startTimestamp=&pageSize=&nextPageToken= — as StopNCII answers it."""
    start, page_size = start_param(request), limit_param(request, "pageSize", 800)
    with only_ours("nextPageToken"):
        body, last, addresses_to = stopncii.fetch(key.partner, start=start, page_size=page_size,
                                                  token=request.GET.get("nextPageToken", ""))
    handovers.note_fetch(key.partner, FeedPosition.Route.STOPNCII, last=last,
                         start=datetime.fromtimestamp(start, UTC),
                         checkpoint=datetime.fromtimestamp(body["nextSetTimestamp"], UTC),
                         # the sync's last page carries its web addresses (stopncii.own_addresses)
                         **({} if addresses_to is None else {"address_checkpoint": addresses_to}))
    return JsonResponse(body)


def clean_native_report(n, raw):
    field = f"feedback[{n}]"
    if not isinstance(raw, dict):
        raise Refusal("Each report is an object.", field=field)
    if raw.get("signal_type") == records.URL:  # on a web address the feed sent (partners.addresses)
        if not isinstance(raw.get("value"), str) or not 0 < len(raw["value"].strip()) <= 2000:
            raise Refusal("value must be the web address as the feed sent it.", field=f"{field}.value")
        if raw.get("outcome") not in addresses.REPORTABLE:
            raise Refusal(f"outcome must be one of {', '.join(sorted(addresses.REPORTABLE))}.",
                          field=f"{field}.outcome")
        return {"signal_type": records.URL, "value": raw["value"].strip(), "outcome": raw["outcome"],
                "acted_at": clean_acted_at(raw, field), "n": n}
    try:
        kind = signal_types.get(raw.get("signal_type"))
        value = kind.normalise(raw.get("value"))
    except signal_types.InvalidSignal as bad:
        raise Refusal(str(bad), field=f"{field}.value") from None
    if not isinstance(raw.get("outcome"), str) or raw["outcome"] not in NATIVE_OUTCOMES:
        raise Refusal(f"outcome must be one of {', '.join(sorted(NATIVE_OUTCOMES))}.", field=f"{field}.outcome")
    return {"signal_type": kind.code, "value": value, "outcome": raw["outcome"],
            "tags": clean_tags(raw.get("tags"), f"{field}.tags"), "acted_at": clean_acted_at(raw, field)}


def clean_acted_at(raw, field):
    acted_at = None  # without a time of its own, a repeat of the latest report is taken as a retry
    if raw.get("acted_at") is not None:
        try:
            acted_at = parse_datetime(raw["acted_at"]) if isinstance(raw["acted_at"], str) else None
            if acted_at is not None and acted_at.tzinfo is not None:
                acted_at.astimezone(UTC)  # an offset that cannot be converted raises here
        except (ValueError, OverflowError):
            acted_at = None
        if acted_at is None or acted_at.tzinfo is None or acted_at.year < 2000:
            raise Refusal("acted_at must be an ISO 8601 time with its offset since 2000, e.g. "
                          "2026-11-27T10:00:00Z.", field=f"{field}.acted_at")
        if acted_at > timezone.now() + timedelta(minutes=5):
            raise Refusal("acted_at is in the future.", field=f"{field}.acted_at")
    return acted_at


@allow("POST")
@keyed(ApiKey.Scope.FEEDBACK)
def feedback(request, key):
    """POST /api/v1/feedback — {"feedback": [{signal_type, value, outcome, tags?, acted_at?}]}; idempotent. Reports
    of signal type url are on the partner's own web addresses (partners.addresses)."""
    reports = [clean_native_report(n, raw) for n, raw in enumerate(report_list(json_body(request), "feedback"))]
    on_hashes = [r for r in reports if r["signal_type"] != records.URL]
    on_addresses = [r for r in reports if r["signal_type"] == records.URL]
    count, duplicates = 0, 0
    with fields_under("feedback"), transaction.atomic():  # all recorded, or none
        if on_hashes:
            count, duplicates = outcomes.record_feedback(key.partner, on_hashes, via="native")
        if on_addresses:
            count += addresses.report(key.partner, on_addresses)
    return JsonResponse({"recorded": count, "duplicates": duplicates})


STOPNCII_TYPES = {64: signal_types.PDQ, 32: signal_types.MD5}  # SubmitFeedback sends no type: the length tells


def clean_stopncii_report(n, raw):
    field = f"hashFeedbacks[{n}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("hashValue"), str):
        raise Refusal("Each feedback is an object with a hashValue.", field=field)
    if raw["hashValue"].strip().lower().startswith(("http://", "https://")):  # a web address the feed sent
        if raw.get("feedbackValue") not in addresses.REPORTABLE or raw["feedbackValue"] == Outcome.Value.REMOVED:
            raise Refusal("feedbackValue on a URL must be one of PendingReview, Blocked, NotBlocked.",
                          field=f"{field}.feedbackValue")
        return {"signal_type": records.URL, "value": raw["hashValue"].strip(), "outcome": raw["feedbackValue"],
                "acted_at": None, "n": n}
    kind = STOPNCII_TYPES.get(len(raw["hashValue"].strip()))
    if kind is None:
        raise Refusal("hashValue must be a PDQ (64 hex characters) or an MD5 (32).", field=f"{field}.hashValue")
    try:
        value = kind.normalise(raw["hashValue"])
    except signal_types.InvalidSignal as bad:
        raise Refusal(str(bad), field=f"{field}.hashValue") from None
    reported = raw.get("feedbackValue")
    if not isinstance(reported, str) or reported not in Outcome.Value.values or reported == Outcome.Value.REMOVED:
        raise Refusal("feedbackValue must be one of None, QualityUnknown, PendingReview, Blocked, NotBlocked, "
                      "Withdrawn, Deleted.", field=f"{field}.feedbackValue")
    return {"signal_type": kind.code, "value": value, "outcome": raw["feedbackValue"],
            "tags": clean_tags(raw.get("tags"), f"{field}.tags"), "acted_at": None}


@allow("POST")
@keyed(ApiKey.Scope.FEEDBACK, credentials=stopncii_headers)
def stopncii_submit_feedback(request, key):
    """POST /api/stopncii/v1/SubmitFeedback — {"count", "hashFeedbacks": [{hashValue, feedbackValue, tags}]}."""
    reports = [clean_stopncii_report(n, raw) for n, raw in enumerate(report_list(json_body(request), "hashFeedbacks"))]
    on_hashes = [r for r in reports if r["signal_type"] != records.URL]
    on_addresses = [r for r in reports if r["signal_type"] == records.URL]
    count = 0
    with fields_under("hashFeedbacks"), transaction.atomic():  # all recorded, or none
        if on_hashes:
            count, _duplicates = outcomes.record_feedback(key.partner, on_hashes, via="stopncii")
        if on_addresses:
            count += addresses.report(key.partner, on_addresses)
    return JsonResponse({"count": count})


def clean_hash_ref(n, raw, field):
    if not isinstance(raw, dict):
        raise Refusal("Each entry is an object with signal_type and value.", field=f"{field}[{n}]")
    try:
        kind = signal_types.get(raw.get("signal_type"))
        return kind.code, kind.normalise(raw.get("value"))
    except signal_types.InvalidSignal as bad:
        raise Refusal(str(bad), field=f"{field}[{n}].value") from None


@allow("POST")
@keyed(ApiKey.Scope.FEEDBACK)
def acknowledgements(request, key):
    """POST /api/v1/acknowledgements — {"acknowledgements": [{signal_type, value}]}: withdrawals applied."""
    hashes = [clean_hash_ref(n, raw, "acknowledgements")
              for n, raw in enumerate(report_list(json_body(request), "acknowledgements"))]
    count, duplicates = outcomes.acknowledge(key.partner, hashes)
    return JsonResponse({"recorded": count, "duplicates": duplicates})


CONTRIBUTED_TYPES = (signal_types.PDQ, signal_types.MD5)


def clean_native_contribution(n, raw):
    field = f"contributions[{n}]"
    if not isinstance(raw, dict):
        raise Refusal("Each contribution is an object.", field=field)
    kind = next((t for t in CONTRIBUTED_TYPES if t.code == raw.get("signal_type")), None)
    if kind is None:
        raise Refusal("signal_type must be pdq or md5.", field=f"{field}.signal_type")
    try:
        value = kind.normalise(raw.get("value"))
    except signal_types.InvalidSignal as bad:
        raise Refusal(str(bad), field=f"{field}.value") from None
    video = raw.get("video", False)
    if not isinstance(video, bool) or (video and kind != signal_types.MD5):
        raise Refusal("video is true or false, and true only for an md5.", field=f"{field}.video")
    outcome = raw.get("outcome", Outcome.Value.NONE)
    if not isinstance(outcome, str) or (outcome != Outcome.Value.NONE and outcome not in NATIVE_OUTCOMES):
        raise Refusal(f"outcome must be one of {', '.join(sorted(NATIVE_OUTCOMES))}, or left out.",
                      field=f"{field}.outcome")
    return {"signal_type": kind.code, "value": value, "video": video, "outcome": outcome,
            "tags": clean_tags(raw.get("tags"), f"{field}.tags"), "acted_at": timezone.now(), "via": "native"}


@allow("POST")
@keyed(ApiKey.Scope.SUBMIT)
def contributions(request, key):
    """POST /api/v1/contributions — {"contributions": [{signal_type, value, video?, outcome?, tags?}]}: hashes the
    partner found itself, held for staff review."""
    hashes = [clean_native_contribution(n, raw)
              for n, raw in enumerate(report_list(json_body(request), "contributions"))]
    outcomes.contribute(key.partner, hashes)
    # The same answer whether or not the bank had a hash: a partner learns nothing of what others sent.
    return JsonResponse({"received": len(hashes)})



def clean_contribution(n, raw):
    field = f"hashRecords[{n}]"
    if not isinstance(raw, dict):
        raise Refusal("Each record is an object.", field=field)
    kind = signal_types.BY_STOPNCII_NAME.get(raw["signalType"]) if isinstance(raw.get("signalType"), str) else None
    if kind is None:
        raise Refusal("signalType must be ImagePDQ or VideoMD5.", field=f"{field}.signalType")
    try:
        value = kind.normalise(raw.get("hashValue"))
    except signal_types.InvalidSignal as bad:
        raise Refusal(str(bad), field=f"{field}.hashValue") from None
    feedbacks = raw.get("CSPFeedbacks") or [{"feedbackValue": "None"}]
    if not isinstance(feedbacks, list) or not isinstance(feedbacks[0], dict):
        raise Refusal("CSPFeedbacks must be a list of objects.", field=f"{field}.CSPFeedbacks")
    outcome = feedbacks[0].get("feedbackValue", "None")
    if not isinstance(outcome, str) or outcome not in Outcome.Value.values or outcome == Outcome.Value.REMOVED:
        raise Refusal("feedbackValue is not one StopNCII knows.", field=f"{field}.CSPFeedbacks[0].feedbackValue")
    return {"signal_type": kind.code, "value": value, "video": kind == signal_types.MD5, "outcome": outcome,
            "tags": clean_tags(feedbacks[0].get("tags"), f"{field}.CSPFeedbacks[0].tags"),
            "acted_at": timezone.now(), "via": "stopncii"}


@allow("POST")
@keyed(ApiKey.Scope.SUBMIT, credentials=stopncii_headers)
def stopncii_submit_hashes(request, key):
    """POST /api/stopncii/v1/SubmitHashes — hashes the partner found itself: held for staff review."""
    hashes = [clean_contribution(n, raw) for n, raw in enumerate(report_list(json_body(request), "hashRecords"))]
    outcomes.contribute(key.partner, hashes)
    return JsonResponse({"count": len(hashes)})  # the same whether or not the bank had them


# --- The sandbox: synthetic photos for partners in integration (partners.sandbox) --------------------------------

@allow("GET")
@keyed(ApiKey.Scope.FETCH, sandbox=True)
def sandbox_hashes(request, key):
    """GET /api/sandbox/v1/hashes?cursor=&limit= — the native feed's shape, over the sandbox's photos."""
    limit = limit_param(request)
    with only_ours("cursor"):
        position = sandbox.decode_position(request.GET.get("cursor", ""))
    told, position, has_more = sandbox.page(key.partner, position, limit)
    handovers.note_fetch(key.partner, FeedPosition.Route.SANDBOX)
    return JsonResponse(records.native_page(told, sandbox.encode_position(position), has_more))


@allow("GET")
@keyed(ApiKey.Scope.FETCH, credentials=stopncii_headers, sandbox=True)
def sandbox_fetch_hashes(request, key):
    """GET /api/sandbox/stopncii/v1/FetchHashes — FetchHashes over the sandbox's photos."""
    start, page_size = start_param(request), limit_param(request, "pageSize", 800)
    with only_ours("nextPageToken"):
        body = sandbox.fetch(key.partner, start=start, page_size=page_size, token=request.GET.get("nextPageToken", ""))
    handovers.note_fetch(key.partner, FeedPosition.Route.SANDBOX)
    return JsonResponse(body)


@allow("POST")
@keyed(ApiKey.Scope.FEEDBACK, sandbox=True)
def sandbox_feedback(request, key):
    """POST /api/sandbox/v1/feedback — as /api/v1/feedback, about sandbox hashes; recorded for the helpline."""
    reports = [clean_native_report(n, raw) for n, raw in enumerate(report_list(json_body(request), "feedback"))]
    for n, report in enumerate(reports):
        if report["signal_type"] == records.URL:
            raise Refusal("The sandbox holds no web addresses.", field=f"feedback[{n}].signal_type")
    with fields_under("feedback"):
        count = sandbox.record_feedback(key.partner, reports, via="native")
    return JsonResponse({"recorded": count, "duplicates": 0})


@allow("POST")
@keyed(ApiKey.Scope.FEEDBACK, credentials=stopncii_headers, sandbox=True)
def sandbox_submit_feedback(request, key):
    """POST /api/sandbox/stopncii/v1/SubmitFeedback — as SubmitFeedback, about sandbox hashes."""
    reports = [clean_stopncii_report(n, raw) for n, raw in enumerate(report_list(json_body(request), "hashFeedbacks"))]
    with fields_under("hashFeedbacks"):
        count = sandbox.record_feedback(key.partner, reports, via="stopncii")
    return JsonResponse({"count": count})


@allow("GET")
def sandbox_page(request):
    """GET /api/sandbox/ — the sandbox's photos to download, with the hashes the sandbox feeds serve for them.
    Open without a key: the photos are synthetic and say so."""
    return render(request, "partners/sandbox.html", {"photos": sandbox.photos()})


@allow("GET")
def sandbox_photo(request, n):
    """GET /api/sandbox/photos/<n>.jpg — one sandbox photo, the bytes its MD5 and PDQ were computed from."""
    if not 1 <= n <= sandbox.PHOTOS:
        return error(f"The sandbox has photos 1 to {sandbox.PHOTOS}.", 404)
    response = HttpResponse(sandbox.photo(n), content_type="image/jpeg")
    response["Content-Disposition"] = f'attachment; filename="sandbox-{n}.jpg"'
    return response
