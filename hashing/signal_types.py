"""Signal types: what a hash is, how it is written, how it is checked and compared.

A signal is one fingerprint of one file. Values are kept as lowercase hex, exactly as the reference packages
print them (see docs/hashing.md).
"""

import hashlib
import json
import math
import re
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext as _

PDQ_MATCH_DISTANCE = 31  # Hamming distance at or below which two PDQ hashes match
PDQ_MIN_QUALITY = 50  # below this PDQ is unreliable: never shared with partners


class InvalidSignal(ValueError):
    """A hash value that cannot be one of ours. The message says why, for a person or a partner's engineer."""


@dataclass(frozen=True)
class SignalType:
    code: str  # our name, stored in the database and used in the native API
    label: str
    hex_length: int
    stopncii_name: str | None  # the StopNCII enum value, where StopNCII carries this type
    match_distance: int = 0  # Hamming distance that still counts as a match (0: exact only)

    @property
    def bits(self):
        return self.hex_length * 4

    def normalise(self, value):
        """Return the canonical form (lowercase hex) or raise InvalidSignal with a readable reason."""
        # Messages in the active language: English for partners, the caller's on caller pages.
        names = {"label": self.label, "length": self.hex_length}
        if not isinstance(value, str):
            raise InvalidSignal(_("%(label)s must be a string of %(length)s hex characters.") % names)
        cleaned = value.strip().lower()
        if cleaned.startswith("0x"):
            cleaned = cleaned[2:]
        if len(cleaned) != self.hex_length:
            raise InvalidSignal(_("%(label)s must be %(length)s hex characters; got %(got)s.")
                                % {**names, "got": len(cleaned)})
        if not re.fullmatch(r"[0-9a-f]+", cleaned):
            raise InvalidSignal(_("%(label)s may contain only the hex digits 0-9 and a-f.") % names)
        return cleaned

    def distance(self, a, b):
        """Hamming distance between two values of this type."""
        return (int(self.normalise(a), 16) ^ int(self.normalise(b), 16)).bit_count()

    def matches(self, a, b):
        return self.distance(a, b) <= self.match_distance

    def key(self, value):
        """What the bank's unique (signal type, value) holds for a normalised value: the value itself."""
        return value


# --- vPDQ: a video's frames, as python-threatexchange's VPDQSignal writes them --------------------------------
# A JSON array of "pdqHex,quality,timestamp" strings (VpdqCompactFeature.__str__: the time as f"{t:.3}", three
# significant digits). Too long to be a key: the bank keys it by its SHA-256 (BankHash.value) and keeps the text
# beside it (BankHash.full_value).

VPDQ_MAX_FRAMES = 7200  # two hours at one frame a second; hashing.video refuses longer videos (MD5 only)
_VPDQ_FRAME = re.compile(r"([0-9a-f]{64}),(\d{1,3}),([0-9][0-9.e+\-]{0,15})")


@dataclass(frozen=True)
class VpdqFrame:
    pdq_hex: str
    quality: int
    timestamp: float

    def __str__(self):
        # python-threatexchange's VpdqCompactFeature.__str__, byte for byte.
        return f"{self.pdq_hex},{self.quality},{self.timestamp:.3}"


def vpdq_signal(frames):
    """The exchange's string for these frames: python-threatexchange's vpdq_to_json, byte for byte."""
    return json.dumps([str(frame) for frame in frames])


def vpdq_frames_of(value, max_frames=VPDQ_MAX_FRAMES):
    """The frames of a vPDQ string, checked as python-threatexchange's json_to_vpdq checks them and more strictly
    (lowercase hex, finite times in order, at least one frame, at most max_frames). Raises InvalidSignal."""
    shape = _('vPDQ must be a JSON array of "pdqHex,quality,timestamp" strings.')
    if not isinstance(value, str):
        raise InvalidSignal(shape)
    try:
        items = json.loads(value)
    except (ValueError, RecursionError):
        raise InvalidSignal(_("vPDQ is not valid JSON.")) from None
    if not isinstance(items, list):
        raise InvalidSignal(shape)
    if not items:
        raise InvalidSignal(_("vPDQ has no frames."))
    if len(items) > max_frames:
        raise InvalidSignal(_("vPDQ has %(count)s frames; at most %(limit)s are accepted.")
                            % {"count": len(items), "limit": max_frames})
    frames, last = [], 0.0
    for n, item in enumerate(items):
        match = _VPDQ_FRAME.fullmatch(item.strip().lower()) if isinstance(item, str) else None
        if not match:
            raise InvalidSignal(_('vPDQ frame %(n)s must be "pdqHex,quality,timestamp" (64 hex digits, 0-100, '
                                  'seconds).') % {"n": n})
        quality, seconds = int(match.group(2)), _seconds(match.group(3))
        if quality > 100:
            raise InvalidSignal(_("vPDQ frame %(n)s: quality must be 0-100.") % {"n": n})
        if seconds is None or seconds < last:
            raise InvalidSignal(_("vPDQ frame %(n)s: the timestamp must be a number of seconds, 0 or more, and "
                                  "no earlier than the frame before.") % {"n": n})
        last = seconds
        frames.append(VpdqFrame(match.group(1), quality, seconds))
    return frames


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


class VpdqType(SignalType):
    def normalise(self, value):
        """The canonical text (vpdq_signal of its frames): the same video always gives the same string."""
        return vpdq_signal(vpdq_frames_of(value))

    def key(self, value):
        return hashlib.sha256(value.encode()).hexdigest()

    def distance(self, a, b):
        raise TypeError("vPDQ compares frame by frame (python-threatexchange's VPDQSignal.compare_hash)")

    matches = distance


def best_quality(frames):
    """A vPDQ's quality in the bank: its best frame's. Below PDQ_MIN_QUALITY, every frame is, and it is not shared
    (python-threatexchange drops such frames when it matches, so nothing would be left to match)."""
    return max(frame.quality for frame in frames)


PDQ = SignalType("pdq", "PDQ hash", 64, "ImagePDQ", PDQ_MATCH_DISTANCE)
PHASH = SignalType("phash", "pHash", 16, None)
MD5 = SignalType("md5", "MD5", 32, "VideoMD5")
VPDQ = VpdqType("vpdq", "vPDQ", 64, None, PDQ_MATCH_DISTANCE)  # hex_length: of its key, the text's SHA-256
# Signal types whose quality decides whether they are shared (is_low_quality).
GRADED = (PDQ.code, VPDQ.code)

BY_CODE = {t.code: t for t in (PDQ, PHASH, MD5, VPDQ)}
CHOICES = [(t.code, t.label) for t in BY_CODE.values()]
# The client in the threatexchange package sends "StopNCIISignalType.ImagePDQ" from submit_hashes.
BY_STOPNCII_NAME = {}
for _type in BY_CODE.values():
    if _type.stopncii_name:
        BY_STOPNCII_NAME[_type.stopncii_name] = _type
        BY_STOPNCII_NAME[f"StopNCIISignalType.{_type.stopncii_name}"] = _type


def get(code):
    if isinstance(code, str) and code in BY_CODE:
        return BY_CODE[code]
    raise InvalidSignal(f"Unknown signal type {code!r}; expected one of {', '.join(BY_CODE)}.")


# --- Carried by StopNCII: the one definition, in the three forms the code needs -------------------------------
# The StopNCII exchange carries PDQ, and MD5 only as VideoMD5: where a video holds it (BankHash.video).


def carried_by_stopncii(signal_type, video):
    return signal_type == PDQ.code or (signal_type == MD5.code and bool(video))


def carried_by_stopncii_q(prefix=""):
    """As a filter on bank hashes (`prefix` "bank_hash__" from their changes)."""
    return models.Q(**{f"{prefix}signal_type": PDQ.code}) | models.Q(**{f"{prefix}signal_type": MD5.code,
                                                                       f"{prefix}video": True})


def carried_by_stopncii_sql(alias):
    """As SQL on a hashing_bankhash row under `alias`."""
    return f"({alias}.signal_type = '{PDQ.code}' OR ({alias}.signal_type = '{MD5.code}' AND {alias}.video))"


def from_stopncii(name):
    try:
        return BY_STOPNCII_NAME[name]
    except KeyError:
        known = ", ".join(t.stopncii_name for t in BY_CODE.values() if t.stopncii_name)
        raise InvalidSignal(f"Unknown signalType {name!r}; expected one of {known}.") from None


def check_quality(quality):
    """PDQ quality is an integer 0-100."""
    if isinstance(quality, bool) or not isinstance(quality, int) or not 0 <= quality <= 100:
        raise InvalidSignal(_("PDQ quality must be a whole number from 0 to 100."))
    return quality


def is_low_quality(quality):
    return quality is None or quality < PDQ_MIN_QUALITY


def check_vpdq(frames):
    """Refuse a video's frames that no real video gives (as check_image does for one image's PDQ)."""
    for n, frame in enumerate(frames):
        bits = int(frame.pdq_hex, 16).bit_count()
        if bits > PDQ_MAX_BITS or (frame.quality > 0 and bits == 0):
            raise InvalidSignal(_("vPDQ frame %(n)s is not a fingerprint any picture gives. Please hash the file "
                                  "again on this page.") % {"n": n})


# A PDQ bit is set where its DCT coefficient is above the median of the 256, a pHash bit where its coefficient is
# above the median of the 64: no image sets more than half of either (docs/privacy.md, "Poisoning").
PDQ_MAX_BITS = 128
PHASH_MAX_BITS = 32


def check_image(pdq, quality, phash):
    """Refuse an image's fingerprints that no real image gives (InvalidSignal, in the active language). A value
    the client chose that passes here is still only a claim: quotas, the flood quarantine and partners'
    NotBlocked reports limit what it can do."""
    pdq_bits, phash_bits = int(pdq, 16).bit_count(), int(phash, 16).bit_count()
    if pdq_bits > PDQ_MAX_BITS or phash_bits > PHASH_MAX_BITS:
        raise InvalidSignal(_("these fingerprints have more bits set than any image gives. Please hash the file "
                              "again on this page."))
    # A blank (one colour) or tiny picture gives an all-zero PDQ, a black one a zero pHash: both with quality 0.
    if quality > 0 and (pdq_bits == 0 or phash_bits == 0):
        raise InvalidSignal(_("a blank picture's fingerprints always have quality 0. Please hash the file again "
                              "on this page."))
