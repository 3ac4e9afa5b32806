"""What the caller confirms before their hashes are sent, and the version of its wording (recorded with the case).

Each language's wording has its own version: English's is CONSENT_VERSION, a translation's "<date>-<code>". Beside
each version is a digest of the four statements as that language shows them: tests/test_translations.py fails
when a wording changes and its version does not, so a changed text always gets a new version.
"""

import hashlib

from django.utils import translation
from django.utils.translation import gettext_lazy as _

CONSENT_VERSION = "2026-11-27"

CONSENT_ITEMS = [
    ("in_images", _("The images or videos show me, or I am helping the person they show, with their agreement.")),
    ("adult", _("The person in them was 18 or over when they were taken or made.")),
    ("share_hashes", _("I agree that fingerprints (hashes) of these files are shared with partner platforms, so "
                       "they can find and block copies. The files themselves never leave this device.")),
    ("withdraw", _("I understand I can withdraw at any time with my case reference and PIN.")),
]
CONSENT_KEYS = [key for key, _text in CONSENT_ITEMS]

# language: (version of its wording, wording_digest(language) of that wording)
CONSENT_VERSIONS = {
    "en-gb": (CONSENT_VERSION, "0e6373674fc4b61a"),
    "es": ("2026-11-27-es", "98ad993205958f9b"),
    "fr": ("2026-12-07-fr", "f968cf6abc17fccd"),
    "de": ("2026-12-07-de", "d921f9ecef027c85"),
    "it": ("2026-12-07-it", "818faa042dd221bc"),
    "pt": ("2026-12-07-pt", "05e83e6544e808f1"),
    "sv": ("2026-12-07-sv", "58050316bfeaa463"),
    "ar": ("2026-12-07-ar", "519dfde1e9971707"),
    "hi": ("2026-12-07-hi", "a7caf2faf4ea025b"),
    "ur": ("2026-12-07-ur", "d1deab75f6e11c4c"),
    "ko": ("2026-12-07-ko", "90eb28e564052b8d"),
    "cy": ("2026-12-07-cy", "3b296133f70c2535"),
    "pl": ("2026-12-07-pl", "36a7aabe2d7c9704"),
    "uk": ("2026-12-07-uk", "35c263503f97c3b9"),
    "ro": ("2026-12-07-ro", "543d1f377b7c1b3d"),
    "tr": ("2026-12-07-tr", "70a51b9ccda2d29f"),
}
CURRENT_VERSIONS = {version for version, _digest in CONSENT_VERSIONS.values()}


def consent_version(language):
    return CONSENT_VERSIONS[language][0]


def wording_digest(language):
    """A short digest of the statements as `language` shows them."""
    with translation.override(language):
        wording = "\n".join(str(text) for _key, text in CONSENT_ITEMS)
    return hashlib.sha256(wording.encode()).hexdigest()[:16]
