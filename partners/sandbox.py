"""The sandbox: synthetic photos and the hashes behind them, for partners in integration to test matching end to
end before they go live. Nothing here touches the bank: no case, no caller, no real hash.

The photos are drawn here, the same on every server, and hashed with the reference hasher, so a partner who
downloads them (/api/sandbox/) and hashes them with its own tools finds the values the sandbox feeds serve.
The feeds replay a fixed history: every photo shared, then the last few withdrawn, so a partner also sees a
withdrawal arrive. They answer in the shapes of the real feeds, built by the same builders (partners.records).
"""

import hashlib
import io
from functools import cache

import numpy
from django.core import signing
from django.db import transaction
from PIL import Image, ImageDraw

from audit.actions import record
from core.errors import Refusal
from hashing import reference, signal_types
from partners import records
from partners.models import SandboxReport

PHOTOS = 12
WITHDRAWN = (11, 12)  # withdrawn after being shared: a partner tests dropping a hash it holds
SHARED_AT = 1_767_225_600  # 2026-01-01T00:00:00Z, the synthetic history's first second
WITHDRAWN_AT = SHARED_AT + 86_400
CURSOR_SALT = "partners.sandbox.cursor"
SIZE = (640, 480)


@cache
def photo(n):
    """Photo n (1..PHOTOS) as JPEG bytes: soft gradients, shapes and grain, labelled SANDBOX so no one mistakes
    it for anything real. Seeded by n, so every server draws the same bytes."""
    rng = numpy.random.default_rng(n)
    y, x = numpy.mgrid[0:SIZE[1], 0:SIZE[0]] / max(SIZE)
    channels = [numpy.sin(x * rng.uniform(2, 9) + rng.uniform(0, 6)) * numpy.cos(y * rng.uniform(2, 9))
                for _ in range(3)]
    pixels = numpy.stack([(c + 1) * 110 + rng.normal(0, 6, c.shape) for c in channels], axis=-1)
    img = Image.fromarray(pixels.clip(0, 255).astype("uint8"), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(8):
        x0, y0 = int(rng.integers(0, SIZE[0] - 60)), int(rng.integers(0, SIZE[1] - 60))
        box = (x0, y0, x0 + int(rng.integers(40, 260)), y0 + int(rng.integers(40, 200)))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    draw.text((16, 16), f"SANDBOX {n}", fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


@cache
def photos():
    """[{n, md5, pdq, pdq_quality, withdrawn}] for every sandbox photo."""
    result = []
    for n in range(1, PHOTOS + 1):
        data = photo(n)
        with Image.open(io.BytesIO(data)) as img:
            pdq, quality = reference.pdq_of(reference.decode(img))
        result.append({"n": n, "md5": hashlib.md5(data).hexdigest(), "pdq": pdq,  # noqa: S324 (file identity)
                       "pdq_quality": quality, "withdrawn": n in WITHDRAWN})
    return result


@cache
def history():
    """The sandbox's changes in order: (unix second, signal type, value, shared, quality, photo number)."""
    changes = []
    for item in photos():
        at = SHARED_AT + item["n"]
        changes.append((at, signal_types.PDQ.code, item["pdq"], True, item["pdq_quality"], item["n"]))
        changes.append((at, signal_types.MD5.code, item["md5"], True, None, item["n"]))
    for offset, item in enumerate(i for i in photos() if i["withdrawn"]):
        at = WITHDRAWN_AT + offset
        changes.append((at, signal_types.PDQ.code, item["pdq"], False, item["pdq_quality"], item["n"]))
        changes.append((at, signal_types.MD5.code, item["md5"], False, None, item["n"]))
    return changes


def knows(signal_type, value):
    return any(change[1] == signal_type and change[2] == value for change in history())


def encode_position(position):
    return signing.dumps(position, salt=CURSOR_SALT)


def decode_position(token):
    if not token:
        return 0
    try:
        return int(signing.loads(token, salt=CURSOR_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        raise ValueError("This cursor was not issued by the sandbox feed; start again without one.") from None


def page(partner, position=0, limit=1000):
    """The native feed's page, (records, next position, has_more), over the sandbox history."""
    rows, end = [], position
    for index in range(position, len(history())):
        change = history()[index]
        if partner.wants(change[1]):
            if len(rows) == limit:
                break
            rows.append(change)
        end = index + 1  # past every change read, including ones of types this partner does not take
    latest = {}
    for at, signal_type, value, shared, quality, _n in rows:
        latest.pop((signal_type, value), None)  # changed twice in one page: told once, as it is now
        latest[(signal_type, value)] = records.native(signal_type, value, shared=shared, quality=quality,
                                                      video=False, updated=records.iso(at))  # photos, no videos
    return list(latest.values()), end, end < len(history())


def own_reports(partner):
    """{PDQ: [this partner's latest sandbox feedback on it]}, in StopNCII's words (our Removed is its Blocked)."""
    own = {}
    for value, outcome, tags in partner.sandbox_reports.filter(signal_type=signal_types.PDQ.code).order_by(
            "received", "id").values_list("value", "outcome", "tags"):
        own[value] = [records.stopncii_feedback(partner.name, outcome, tags)]
    return own


def fetch(partner, *, start, page_size, token=""):
    """A FetchHashes body over the sandbox history: PDQ only, since StopNCII carries an MD5 only for a video and
    the sandbox has photos."""
    position = decode_position(token)
    changes = [c for c in history() if c[0] >= start and c[1] == signal_types.PDQ.code and partner.wants(c[1])]
    rows = changes[position:position + page_size]
    has_more = position + page_size < len(changes)
    own = own_reports(partner)
    latest = {}
    for at, signal_type, value, shared, _quality, n in rows:
        latest.pop(value, None)
        latest[value] = records.stopncii(signal_type, value, shared=shared, second=at,
                                         case_numbers={f"sandbox-case-{n}": records.STOPNCII_STATUS[shared]},
                                         feedbacks=own.get(value, []))
    last = changes[-1][0] + 1 if changes else start
    return records.stopncii_page(list(latest.values()),
                                 next_token=encode_position(position + page_size) if has_more else None,
                                 next_set=rows[-1][0] if has_more else max(start, last), has_more=has_more)


@cache
def photo_numbers():
    """{PDQ or MD5 of a sandbox photo: its number}."""
    numbers = {}
    for item in photos():
        numbers[item["pdq"]] = numbers[item["md5"]] = item["n"]
    return numbers


def reported_photos(partner):
    """The numbers of the sandbox photos the partner has reported on (by either hash): all of them is the
    sandbox test that going live needs (partners.onboarding.readiness)."""
    values = partner.sandbox_reports.values_list("value", flat=True).distinct()
    return {photo_numbers()[value] for value in values if value in photo_numbers()}


def summary(partner):
    """What a partner manager reads on the partner's page: its reports on sandbox photos, how many photos they
    cover, and its latest reports."""
    reports = list(partner.sandbox_reports.order_by("-received", "-id")[:10])
    for report in reports:
        report.photo = photo_numbers().get(report.value)
    return {"reports": partner.sandbox_reports.count(), "photos": len(reported_photos(partner)), "of": PHOTOS,
            "latest": reports}


@transaction.atomic
def record_feedback(partner, reports, *, via):
    """Reports on sandbox hashes, kept as SandboxReports for the partner manager; all recorded, or none."""
    for n, report in enumerate(reports):
        if not knows(report["signal_type"], report["value"]):
            raise Refusal("Unknown hash: it is not one of the sandbox's.", status=404, field=f"[{n}].value")
    SandboxReport.objects.bulk_create(
        SandboxReport(partner=partner, signal_type=r["signal_type"], value=r["value"], outcome=r["outcome"],
                      tags=sorted(r["tags"]), via=via) for r in reports)
    record("partner.sandbox_feedback", actor_label=f"partner:{partner.slug}", target=partner,
           details={"recorded": len(reports), "via": via})
    return len(reports)
