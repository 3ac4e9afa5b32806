"""Every reason the browser gives for keeping a video's MD5 only (video.js, worker.js warning codes) has a
message the caller's page can show in the caller's language (cases/caller_views.py caller_texts)."""

import re
from pathlib import Path

from django.utils import translation

from cases.caller_views import caller_texts

HASHER = Path(__file__).resolve().parent.parent / "hashing" / "static" / "hashing"


def test_every_video_warning_code_has_a_translatable_message():
    codes = set()
    for name in ("video.js", "worker.js"):
        codes |= set(re.findall(r'"(video_[a-z_]+)"', (HASHER / name).read_text()))
    assert {"video_codec", "video_format", "video_too_long", "video_failed"} <= codes
    with translation.override("en-gb"):
        messages = caller_texts()["video_warnings"]
    assert set(messages) == codes
    placeholders = {"video_codec": {"codec"}, "video_damaged": {"codec"}, "video_too_long": {"hours"},
                    "video_pixels": {"format"}}
    for code, text in messages.items():
        assert set(re.findall(r"%\((\w+)\)s", text)) == placeholders.get(code, set()), code
        assert "MD5" in text, code
