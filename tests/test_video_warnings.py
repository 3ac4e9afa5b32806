"""Every reason the browser gives for keeping a video's MD5 only (video.js, worker.js warning codes) reaches the
caller in their language: a codec the browser lacks by name, any other reason as video_failed
(cases/caller_views.py caller_texts; cases/static/cases/hash.js falls back to it for a video)."""

import re
from pathlib import Path

from django.utils import translation

from cases.caller_views import caller_texts

HASHER = Path(__file__).resolve().parent.parent / "hashing" / "static" / "hashing"


def test_video_warnings_are_translated_and_name_the_codec():
    codes = set()
    for name in ("video.js", "worker.js"):
        codes |= set(re.findall(r'"(video_[a-z_]+)"', (HASHER / name).read_text()))
    assert {"video_codec", "video_format", "video_too_long", "video_failed"} <= codes
    with translation.override("en-gb"):
        english = caller_texts()["warnings"]
    with translation.override("es"):
        spanish = caller_texts()["warnings"]
    for code in ("video_codec", "video_failed"):
        assert code in english and "MD5" in english[code] and spanish[code] != english[code], code
    assert "%(codec)s" in english["video_codec"] and "%(codec)s" in spanish["video_codec"]
    assert "texts.warnings.video_failed" in (HASHER.parent.parent.parent / "cases" / "static" / "cases" /
                                             "hash.js").read_text()
