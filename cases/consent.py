"""What the caller confirms before their hashes are sent. Change the text → change the version (it is recorded)."""

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
