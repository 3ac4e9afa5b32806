"""Building blocks for tests of the call: a contact through intake, a case, a link, a caller's submission."""

import json
import secrets

from django.test import Client
from django.urls import reverse

from cases import actions
from cases.consent import CONSENT_KEYS, CONSENT_VERSION
from cases.models import Contact

ELIGIBLE = {"in_content": True, "adult_in_content": True, "intimate": True, "has_files": True,
            "abuse_type": "shared"}


def ensure_checklist():
    """The default checklist template, which migration cases 0002 creates and a transactional test's flush
    removes."""
    from importlib import import_module

    from cases.models import EvidenceItem

    if not EvidenceItem.objects.exists():
        defaults = import_module("cases.migrations.0002_default_checklist").DEFAULTS
        EvidenceItem.objects.bulk_create(EvidenceItem(label=label, position=n) for n, label in enumerate(defaults))


def open_case(caseworker, **answers):
    contact = actions.take_contact(by=caseworker, channel=Contact.Channel.PHONE, **{**ELIGIBLE, **answers})
    return actions.open_case(contact, by=caseworker)


def issue_code(case, by):
    _link, code = actions.issue_link(case, by=by)
    return code


def image(n, quality=80):
    """A distinct, valid image item: n picks the hashes."""
    return {"kind": "image", "md5": f"{n:032x}", "pdq": f"{n:064x}", "pdq_quality": quality, "phash": f"{n:016x}"}


def video(n):
    return {"kind": "video", "md5": f"{n + 10_000:032x}"}


def payload(items, submission_id=None, consent=None):
    return {
        "submission_id": submission_id or secrets.token_hex(16),
        "consent": consent or {"version": CONSENT_VERSION, "confirmed": list(CONSENT_KEYS)},
        "items": items,
    }


def submit(code, items, client=None, **kwargs):
    client = client or Client()
    return client.post(reverse("caller:submit", args=[code]), json.dumps(payload(items, **kwargs)),
                       content_type="application/json")


def self_service(n, items):
    """A caller alone, from their own address: the start page, then the hashes."""
    client = Client(REMOTE_ADDR=f"198.51.100.{n}")
    started = client.post(reverse("caller:start"), {k: "yes" for k in ELIGIBLE if k != "abuse_type"})
    assert started.status_code == 302
    code = started["Location"].split("/")[2]
    return submit(code, items, client=client)


def values(*items):
    """Every hash value of these items."""
    return {item[field] for item in items for field in ("md5", "pdq", "phash")}
