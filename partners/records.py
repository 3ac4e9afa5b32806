"""The records partners receive, one builder per shape, each beside its fields as the OpenAPI schema describes them
(partners.openapi takes them from here; tests/test_api_schema.py holds each builder's keys to its description).

- native: a record of /api/v1/hashes, of its sandbox, and of a pushed batch (partners.feed, partners.sandbox,
  partners.push), a web address on the partner's own site (partners.addresses), and the page that carries them;
- StopNCII: a FetchHashes record and page as `threatexchange`'s StopNCIIAPI parses them, real or sandbox
  (partners.stopncii, partners.sandbox), with a partner's own feedback on the hash.
"""

from datetime import UTC, datetime

from django.db.models import CharField, F, Func

from hashing import signal_types
from partners.models import Outcome

ACTIVE, WITHDRAWN = "active", "withdrawn"

# A change's time as the native records write it: ISO 8601 in UTC to the microsecond, e.g.
# 2026-11-27T10:00:00.123456+00:00. The bank's changes are formatted by the database (a full sync reads every one,
# and Python datetimes cost more than the rest of a row); the sandbox's synthetic seconds by `iso`.
ISO_UTC = Func(F("at"), output_field=CharField(),
               template="""to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')""")


def iso(second):
    return datetime.fromtimestamp(second, UTC).isoformat(timespec="microseconds")


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


# --- Native ---------------------------------------------------------------------------------------------------

NATIVE = {
    "signal_type": {"type": "string", "enum": list(signal_types.BY_CODE)},
    # Lowercase hex, except a vPDQ's: python-threatexchange's VPDQSignal text (a JSON array of
    # "pdqHex,quality,timestamp" strings).
    "value": {"type": "string", "pattern": "^([0-9a-f]+|\\[.*\\])$"},
    "status": {"type": "string", "enum": [ACTIVE, WITHDRAWN]},
    "quality": {"type": "integer", "nullable": True, "minimum": 0, "maximum": 100},
    "video": {"type": "boolean", "nullable": True},
    "updated": {"type": "string", "format": "date-time"},
}


def native(signal_type, value, *, shared, quality, video, updated):
    """A hash as it is now: active while it may be shared, withdrawn once it may not. `quality` is told for a PDQ
    and a vPDQ (its best frame's) only, `video` (whether a video holds it) for an MD5 only; `updated` is its last
    change's time (ISO text)."""
    return {"signal_type": signal_type, "value": value, "status": ACTIVE if shared else WITHDRAWN,
            "quality": quality if signal_type in signal_types.GRADED else None,
            "video": video if signal_type == signal_types.MD5.code else None, "updated": updated}


def withdraws(record):
    """A native record tells the partner to stop using the hash."""
    return record["status"] == WITHDRAWN


# A web address on the partner's own site (partners.addresses): case data sent to that partner alone, never a bank
# hash, in the same native feed and pushed batches as the hashes.
URL = "url"
URL_RECORD = {
    "signal_type": {"type": "string", "enum": [URL]},
    "value": {"type": "string", "format": "uri"},
    "status": {"type": "string", "enum": [ACTIVE, WITHDRAWN]},
    "reference": {"type": "string"},
    "updated": {"type": "string", "format": "date-time"},
}


def url_record(value, *, reference, updated, withdrawn=False):
    """An address where a caller's image is on the partner's own site: active, to be removed, until its case is
    withdrawn (`withdrawn`: stop acting on it). `reference` is the partner's pseudonym of its case (as StopNCII's
    caseNumbers), `updated` when it was sent or withdrawn (ISO text)."""
    return {"signal_type": URL, "value": value, "status": WITHDRAWN if withdrawn else ACTIVE, "reference": reference,
            "updated": updated}


NATIVE_PAGE = {
    "records": {"type": "array", "items": {"oneOf": [ref("HashRecord"), ref("UrlRecord")]}},
    "cursor": {"type": "string"},
    "has_more": {"type": "boolean"},
}


def native_page(records, cursor, has_more):
    return {"records": records, "cursor": cursor, "has_more": has_more}


# --- StopNCII -------------------------------------------------------------------------------------------------

STOPNCII_STATUS = {True: "Active", False: "Withdrawn"}  # a hash's, and each of its cases'
STOPNCII_URL = "URL"  # StopNCII's signal type for a web address (partners.addresses)
FEEDBACK_NAME = {Outcome.Value.REMOVED: "Blocked"}  # StopNCII has no Removed; it is Blocked there

STOPNCII_FEEDBACK = {
    "source": {"type": "string"},
    "feedbackValue": {"type": "string"},
    "tags": {"type": "array", "items": {"type": "string"}},
}


def stopncii_feedback(source, outcome, tags):
    """A partner's own report on a hash, as CSPFeedbacks holds it (no one else's is ever shown); `source`, its
    name."""
    return {"source": source, "feedbackValue": FEEDBACK_NAME.get(outcome, outcome), "tags": tags}


STOPNCII = {
    "lastModtimestamp": {"type": "integer"},
    "signalType": {"type": "string", "enum": [*(t.stopncii_name for t in signal_types.BY_CODE.values()
                                                if t.stopncii_name), STOPNCII_URL]},
    "hashValue": {"type": "string"},
    "hashStatus": {"type": "string", "enum": list(STOPNCII_STATUS.values())},
    "caseNumbers": {"type": "object", "additionalProperties": {
        "type": "string", "enum": list(STOPNCII_STATUS.values())}},
    "CSPFeedbacks": {"type": "array", "items": ref("StopNCIIFeedback")},
}


def stopncii(signal_type, value, *, shared, second, case_numbers, feedbacks):
    """A hash as FetchHashes tells it: `second`, its last change's unix second; `case_numbers`, {pseudonym:
    STOPNCII_STATUS of that case}; `feedbacks`, the requesting partner's stopncii_feedback on it."""
    return {"lastModtimestamp": second, "signalType": signal_types.BY_CODE[signal_type].stopncii_name,
            "hashValue": value, "hashStatus": STOPNCII_STATUS[shared], "caseNumbers": case_numbers,
            "CSPFeedbacks": feedbacks}


def stopncii_url(value, *, second, case_number, withdrawn=False):
    """A web address on the partner's own site as FetchHashes tells it (partners.addresses): StopNCII's URL signal
    type, the address as `hashValue`, its case's pseudonym, Active or (its case `withdrawn`) Withdrawn; `second`,
    when it was sent or withdrawn."""
    status = STOPNCII_STATUS[not withdrawn]
    return {"lastModtimestamp": second, "signalType": STOPNCII_URL, "hashValue": value, "hashStatus": status,
            "caseNumbers": {case_number: status}, "CSPFeedbacks": []}


STOPNCII_PAGE = {
    "count": {"type": "integer"},
    "nextPageToken": {"type": "string", "nullable": True},
    "nextSetTimestamp": {"type": "integer"},
    "hasMoreRecords": {"type": "boolean"},
    "hashRecords": {"type": "array", "items": ref("StopNCIIRecord")},
}


def stopncii_page(records, *, next_token, next_set, has_more):
    """`next_set`: the checkpoint the client stores; `next_token`: where the next page starts, if there is one."""
    return {"count": len(records), "nextPageToken": next_token, "nextSetTimestamp": next_set,
            "hasMoreRecords": has_more, "hashRecords": records}


# Each shape's component name in the OpenAPI schema.
SCHEMAS = {"HashRecord": NATIVE, "UrlRecord": URL_RECORD, "HashPage": NATIVE_PAGE, "StopNCIIRecord": STOPNCII,
           "StopNCIIFeedback": STOPNCII_FEEDBACK, "StopNCIIPage": STOPNCII_PAGE}
