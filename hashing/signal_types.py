"""Signal types: what a hash is, how it is written, how it is checked and compared.

A signal is one fingerprint of one file. Values are kept as lowercase hex, exactly as the reference packages
print them (see docs/hashing.md).
"""

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


PDQ = SignalType("pdq", "PDQ hash", 64, "ImagePDQ", PDQ_MATCH_DISTANCE)
PHASH = SignalType("phash", "pHash", 16, None)
MD5 = SignalType("md5", "MD5", 32, "VideoMD5")

BY_CODE = {t.code: t for t in (PDQ, PHASH, MD5)}
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
