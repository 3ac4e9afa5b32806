"""Our vPDQ reference (hashing/video.py, PyAV + pdqhash) against Meta's own: the `vpdq` package (built from
source against Debian's FFmpeg by `make`) as python-threatexchange's VPDQSignal.hash_from_file calls it.

The same text, byte for byte, for every video but those of odd width or height, where the two FFmpeg versions'
swscale (Debian's 5.1 under `vpdq`, 8.0 in PyAV's wheel) upsample chroma differently: there the same frames, times
and qualities, PDQs a few bits apart (docs/hashing.md, "Proof"). Every one matches both ways under VPDQSignal's
own compare_hash."""

import statistics

import pytest
from threatexchange.extensions.vpdq.vpdq import VPDQSignal
from threatexchange.extensions.vpdq.vpdq_util import json_to_vpdq

from hashing import signal_types, video
from tests.videos import make_video

pytestmark = pytest.mark.slow

CORPUS = {
    "h264-29.97.mp4": dict(codec="h264", container="mp4", fps="30000/1001", size=(320, 240)),
    "h264-variable.mp4": dict(codec="h264", container="mp4", fps=30, variable=True),
    "h264-rotated.mov": dict(codec="h264", container="mov", fps=25, size=(240, 160), rotate=90),
    "hevc-50.mp4": dict(codec="hevc", container="mp4", fps=50, size=(320, 180)),
    "vp8-odd.webm": dict(codec="vp8", container="webm", fps=24, size=(161, 119)),
    "vp9-odd-motion.webm": dict(codec="vp9", container="webm", fps=30, size=(203, 117), source="motion"),
    "av1-15.webm": dict(codec="av1", container="webm", fps=15, size=(256, 144)),
    "av1-60.mp4": dict(codec="av1", container="mp4", fps=60, size=(192, 108), source="photo:coffee"),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vpdq-corpus")
    return {name: make_video(folder / name, seconds=4, **spec) for name, spec in CORPUS.items()}


def odd(spec):
    width, height = spec.get("size", (320, 240))
    return width % 2 or height % 2


@pytest.mark.parametrize("name", CORPUS)
def test_our_vpdq_is_the_vpdq_package_s(corpus, name):
    theirs = VPDQSignal.hash_from_file(corpus[name])
    ours = signal_types.vpdq_signal(video.vpdq_frames(corpus[name]))
    if not odd(CORPUS[name]):
        assert ours == theirs
    else:
        a, b = json_to_vpdq(ours), json_to_vpdq(theirs)
        assert [(f.quality, f.timestamp) for f in a] == [(f.quality, f.timestamp) for f in b]
        distances = [(int(x.pdq_hex, 16) ^ int(y.pdq_hex, 16)).bit_count() for x, y in zip(a, b, strict=True)]
        assert max(distances) <= 8 and statistics.median(distances) <= 2, distances
    for query, compared in ((ours, theirs), (theirs, ours)):
        result = VPDQSignal.compare_hash(query, compared)
        assert result.match and result.distance.query_match_percent == 100.0


def test_unrelated_videos_do_not_match_under_threatexchange(corpus):
    a = VPDQSignal.hash_from_file(corpus["h264-29.97.mp4"])
    b = signal_types.vpdq_signal(video.vpdq_frames(corpus["av1-60.mp4"]))
    assert not VPDQSignal.compare_hash(a, b).match and not VPDQSignal.compare_hash(b, a).match


def test_a_video_vpdq_cannot_decode_fails_here_too(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    with pytest.raises(Exception):  # noqa: B017, PT011 (vpdq raises a bare Exception)
        VPDQSignal.hash_from_file(broken)
    with pytest.raises(video.CannotDecode):
        video.vpdq_frames(broken)
