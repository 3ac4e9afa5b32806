"""The partner API's OpenAPI 3 description, and the two endpoints that serve it: /api/schema/ and /api/docs/.

Written by hand next to the views it describes; tests/test_api_schema.py fails when a route of the "api"
namespace is missing from it.
"""

from django.http import JsonResponse
from django.shortcuts import render

from hashing import signal_types
from partners import records
from partners.api import CONTRIBUTED_TYPES, MAX_LIMIT, MAX_REPORTS, NATIVE_OUTCOMES, allow
from partners.models import Outcome

ERROR = records.ref("Error")


def record_schema(fields, example=None):
    """A record's schema from its shape's fields (partners.records): every field is always there."""
    schema = {"type": "object", "required": list(fields), "properties": fields}
    if example is not None:
        schema["example"] = example
    return schema


# Examples made by the builders themselves, so they show a record exactly as it is served.
EXAMPLE_PDQ = "d555d5d4a9d5a0552c916ab82aa7c62a55aa54baa147a55e7dd442154a557df6"
EXAMPLES = {
    "HashRecord": records.native(signal_types.PDQ.code, EXAMPLE_PDQ, shared=True, quality=100, video=None,
                                 updated=records.iso(1_767_225_601)),
    "UrlRecord": records.url_record("https://www.your-platform.example/p/4821", reference="3f1c0a9b27d44e6a8b01",
                                    updated=records.iso(1_767_225_601)),
    "StopNCIIRecord": records.stopncii(
        signal_types.PDQ.code, EXAMPLE_PDQ, shared=False, second=1_767_312_000,
        case_numbers={"3f1c0a9b27d44e6a8b01": records.STOPNCII_STATUS[False]},
        feedbacks=[records.stopncii_feedback("Your platform", Outcome.Value.REMOVED, [])]),
}


def responses(ok, *codes):
    described = {
        "400": "Bad input: `field` names what to fix.",
        "401": "No key, an unknown key or a wrong secret.",
        "403": "The key is revoked, expired, out of scope, or its partner is not live (in integration: only the "
               "sandbox).",
        "404": "A hash that was never sent to you (in the sandbox: not a sandbox hash).",
        "409": "Nothing to do for this hash in its present state (e.g. acknowledging an active hash).",
        "413": "The body is too large.",
        "415": "The body is not JSON.",
        "429": "Rate limit, per key; or too many failed authentications from your address, when even a right "
               "key waits: wait for `Retry-After` seconds.",
    }
    out = {"200": ok}
    for code in codes:
        out[code] = {"description": described[code], "content": {"application/json": {"schema": ERROR}}}
    return out


def json_ok(description, schema):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


SCHEMA = {
    "openapi": "3.0.3",
    "info": {
        "title": "Helpline portal partner API",
        "version": "1",
        "description": (
            "Hashes of non-consensual intimate images, made on victims' own devices, for partner platforms to "
            "block, and the partners' reports back. Two flavours: the native API under /api/v1/, and a "
            "StopNCII-compatible API under /api/stopncii/v1/ for tools that already speak StopNCII's exchange "
            "API (threatexchange's StopNCIIAPI with base_url_override). Errors are JSON {error, field}."),
    },
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "`Authorization: Bearer <public id>.<secret>`"},
            "subscriptionKey": {"type": "apiKey", "in": "header", "name": "Ocp-Apim-Subscription-Key",
                                "description": "The key's public id."},
            "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key",
                            "description": "The key's secret."},
        },
        "schemas": {
            "Error": {"type": "object", "required": ["error", "field"], "properties": {
                "error": {"type": "string"}, "field": {"type": "string", "nullable": True}}},
            "Report": {"type": "object", "required": ["signal_type", "value", "outcome"], "properties": {
                "signal_type": {"type": "string", "enum": [*signal_types.BY_CODE, records.URL]},
                "value": {"type": "string"},
                "outcome": {"type": "string", "enum": sorted(NATIVE_OUTCOMES)},
                "tags": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 100}},
                "acted_at": {"type": "string", "format": "date-time"}}},
            **{name: record_schema(fields, EXAMPLES.get(name)) for name, fields in records.SCHEMAS.items()},
        },
    },
    "paths": {
        "/api/v1/hashes": {"get": {
            "summary": "The hash feed: changes in the bank's order, after a cursor",
            "description": (
                "Every record is a hash as it is now: `active` while you may use it, `withdrawn` once you must "
                "stop. Page with the returned `cursor` until `has_more` is false; store the cursor and continue "
                "from it later. A cursor never skips a change, even one committed late. A `vpdq` record's value "
                "is python-threatexchange's VPDQSignal text (a JSON array of \"pdqHex,quality,timestamp\" "
                "strings) and its quality its best frame's; other hash values are lowercase hex. Records of signal "
                "type `url` are web addresses on your own platform where a caller's image is, sent to you alone: "
                "remove the content and report it (`/api/v1/feedback`, signal type `url`); one comes again as "
                "`withdrawn` when the caller withdraws the case: stop acting on it."),
            "security": [{"bearer": []}],
            "parameters": [
                {"name": "cursor", "in": "query", "schema": {"type": "string"},
                 "description": "From the previous page; empty to start from the beginning."},
                {"name": "limit", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 1000}},
            ],
            "responses": responses(json_ok("A page of records.", records.ref("HashPage")),
                                   "400", "401", "403", "429"),
        }},
        "/api/v1/feedback": {"post": {
            "summary": "Report what you did about hashes (idempotent)",
            "description": (
                "PendingReview: a match, in review; Blocked: matched and actioned; NotBlocked: matched, judged "
                "not NCII; Removed: taken down. `acted_at` is your own time of action: a report sent again with the "
                "same time changes nothing (without one, a repeat of your latest report on that hash changes "
                "nothing). A time more than 5 minutes ahead is refused; one before the hash first reached you is "
                "recorded as that first delivery, and your own time is kept beside it. A report of signal type "
                "`url` is about a web address the feed sent you (its `value` as sent): Removed or Blocked records "
                "it removed, NotBlocked refused, PendingReview nothing yet; one on an address withdrawn since is "
                "taken but not acted on (not counted in `recorded`). All reports in a request "
                "are recorded, or none."),
            "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["feedback"], "properties": {"feedback": {
                    "type": "array", "minItems": 1, "maxItems": MAX_REPORTS,
                    "items": {"$ref": "#/components/schemas/Report"}}}}}}},
            "responses": responses(json_ok("Recorded.", {
                "type": "object", "required": ["recorded", "duplicates"],
                "properties": {"recorded": {"type": "integer"}, "duplicates": {"type": "integer"}}}),
                "400", "401", "403", "404", "413", "415", "429"),
        }},
        "/api/v1/contributions": {"post": {
            "summary": "Contribute hashes you found yourself",
            "description": (
                "NCII your platform found on its own, as PDQ or MD5 (`video`: the MD5 is a video's). New hashes "
                "are held for staff review and shared with no one until a person approves them; for a hash the "
                "helpline already has, only your report is recorded. `outcome` (optional) is what you did."),
            "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["contributions"], "properties": {"contributions": {
                    "type": "array", "minItems": 1, "maxItems": MAX_REPORTS, "items": {
                        "type": "object", "required": ["signal_type", "value"], "properties": {
                            "signal_type": {"type": "string", "enum": [t.code for t in CONTRIBUTED_TYPES]},
                            "value": {"type": "string"},
                            "video": {"type": "boolean", "default": False},
                            "outcome": {"type": "string", "enum": sorted(NATIVE_OUTCOMES | {"None"})},
                            "tags": {"type": "array", "maxItems": 20,
                                     "items": {"type": "string", "maxLength": 100}}}}}}}}}},
            "responses": responses(json_ok("Received.", {
                "type": "object", "required": ["received"], "properties": {"received": {"type": "integer"}}}),
                "400", "401", "403", "413", "415", "429"),
        }},
        "/api/v1/acknowledgements": {"post": {
            "summary": "Confirm you applied withdrawals",
            "description": "For hashes the feed told you are withdrawn. Repeats change nothing.",
            "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["acknowledgements"], "properties": {"acknowledgements": {
                    "type": "array", "minItems": 1, "maxItems": MAX_REPORTS, "items": {
                        "type": "object", "required": ["signal_type", "value"], "properties": {
                            "signal_type": {"type": "string", "enum": list(signal_types.BY_CODE)},
                            "value": {"type": "string"}}}}}}}}},
            "responses": responses(json_ok("Recorded.", {
                "type": "object", "required": ["recorded", "duplicates"],
                "properties": {"recorded": {"type": "integer"}, "duplicates": {"type": "integer"}}}),
                "400", "401", "403", "404", "409", "413", "415", "429"),
        }},
        "/api/stopncii/v1/FetchHashes": {"get": {
            "summary": "StopNCII FetchHashes: ImagePDQ and VideoMD5 records since a checkpoint",
            "description": (
                "As StopNCII's exchange API: store `nextSetTimestamp` and start the next sync from it. A sync "
                "never hands out a second that may still receive changes. `caseNumbers` are pseudonyms for you "
                "alone; `CSPFeedbacks` holds only your own feedback (Removed appears as Blocked)."),
            "security": [{"subscriptionKey": [], "functionKey": []}],
            "parameters": [
                {"name": "startTimestamp", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                {"name": "pageSize", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 800}},
                {"name": "nextPageToken", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": responses(json_ok("A page of records.", records.ref("StopNCIIPage")),
                "400", "401", "403", "429"),
        }},
        "/api/stopncii/v1/SubmitHashes": {"post": {
            "summary": "StopNCII SubmitHashes: hashes you found yourself",
            "description": ("Held for staff review and shared with no one until a person approves them. Both "
                            "spellings of signalType are accepted (ImagePDQ, StopNCIISignalType.ImagePDQ)."),
            "security": [{"subscriptionKey": [], "functionKey": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["hashRecords"], "properties": {
                    "count": {"type": "integer"},
                    "hashRecords": {"type": "array", "minItems": 1, "maxItems": MAX_REPORTS, "items": {
                        "type": "object", "required": ["signalType", "hashValue"], "properties": {
                            "lastModtimestamp": {"type": "integer"},
                            "signalType": {"type": "string", "enum": sorted(signal_types.BY_STOPNCII_NAME)},
                            "hashValue": {"type": "string"},
                            "CSPFeedbacks": {"type": "array", "items": {"type": "object"}}}}}}}}}},
            "responses": responses(json_ok("Received.", {
                "type": "object", "required": ["count"], "properties": {"count": {"type": "integer"}}}),
                "400", "401", "403", "413", "415", "429"),
        }},
        "/api/stopncii/v1/SubmitFeedback": {"post": {
            "summary": "StopNCII SubmitFeedback",
            "description": ("Withdrawn or Deleted acknowledge a withdrawal. The hash type follows from the value's "
                            "length (64: PDQ, 32: MD5)."),
            "security": [{"subscriptionKey": [], "functionKey": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["hashFeedbacks"], "properties": {
                    "count": {"type": "integer"},
                    "hashFeedbacks": {"type": "array", "minItems": 1, "maxItems": MAX_REPORTS, "items": {
                        "type": "object", "required": ["hashValue", "feedbackValue"], "properties": {
                            "hashValue": {"type": "string"},
                            "feedbackValue": {"type": "string", "enum": sorted(
                                set(Outcome.Value.values) - {Outcome.Value.REMOVED})},
                            "tags": {"type": "array", "items": {"type": "string"}}}}}}}}}},
            "responses": responses(json_ok("Recorded.", {
                "type": "object", "required": ["count"], "properties": {"count": {"type": "integer"}}}),
                "400", "401", "403", "404", "413", "415", "429"),
        }},
    },
}


SANDBOX = (
    "The sandbox: synthetic photos (download them from /api/sandbox/) and their hashes, for partners in "
    "integration (and live ones) to test matching end to end. Keys of the partner's account work here; nothing "
    "reaches the real bank.")


def in_sandbox(path, summary):
    operations = SCHEMA["paths"][path]
    return {method: {**operation, "summary": summary, "description": f"{SANDBOX} {operation['description']}"}
            for method, operation in operations.items()}


SCHEMA["paths"].update({
    "/api/sandbox/": {"get": {
        "summary": "The sandbox's photos and their hashes, as a page (no key needed)",
        "description": SANDBOX,
        "responses": {"200": {"description": "An HTML page.", "content": {"text/html": {}}}},
    }},
    "/api/sandbox/photos/{n}.jpg": {"get": {
        "summary": "One sandbox photo (no key needed)",
        "description": "The exact bytes the sandbox's MD5 and PDQ of photo n were computed from.",
        "parameters": [{"name": "n", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}],
        "responses": {"200": {"description": "A JPEG.", "content": {"image/jpeg": {}}},
                      "404": {"description": "No such photo.", "content": {"application/json": {"schema": ERROR}}}},
    }},
    "/api/sandbox/v1/hashes": in_sandbox("/api/v1/hashes", "Sandbox: the hash feed"),
    "/api/sandbox/v1/feedback": in_sandbox("/api/v1/feedback", "Sandbox: report what you did"),
    "/api/sandbox/stopncii/v1/FetchHashes": in_sandbox("/api/stopncii/v1/FetchHashes", "Sandbox: FetchHashes"),
    "/api/sandbox/stopncii/v1/SubmitFeedback": in_sandbox("/api/stopncii/v1/SubmitFeedback",
                                                          "Sandbox: SubmitFeedback"),
})


@allow("GET")
def schema(request):
    """GET /api/schema/ — the OpenAPI 3 description of this API."""
    return JsonResponse(SCHEMA)


@allow("GET")
def docs(request):
    """GET /api/docs/ — the same description as a page, served by the portal (no CDN, no script)."""
    operations = [(path, method.upper(), operation) for path, methods in SCHEMA["paths"].items()
                  for method, operation in methods.items()]
    return render(request, "partners/api_docs.html", {"schema": SCHEMA, "operations": operations})
