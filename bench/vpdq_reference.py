"""Proof and speed: our vPDQ reference (hashing/video.py: PyAV + pdqhash) against Meta's `vpdq` package (as
python-threatexchange's VPDQSignal.hash_from_file calls it), on a corpus made with FFmpeg, in one run.

    .venv/bin/python bench/vpdq_reference.py [--long 120] [--folder /tmp/vpdq-corpus]

Makes the videos (tests/videos.py: real photographs and synthetic motion; 15 to 60 fps, 29.97 and variable; odd
and rotated sizes; H.264, HEVC, VP8, VP9, AV1 in MP4, MOV, WebM, MKV; 1 s to --long s), hashes each with both,
and prints per video: frames, identical frames, PDQ distance (median, max), whether the two texts are identical,
whether each matches the other both ways under VPDQSignal.compare_hash, and both hashers' times. Then the totals,
and copies (another bitrate, half the size, trimmed by 10 %) and an unrelated video against an original.
docs/hashing.md ("Videos: vPDQ") quotes a run.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from threatexchange.extensions.vpdq.vpdq import VPDQSignal  # noqa: E402
from threatexchange.extensions.vpdq.vpdq_util import json_to_vpdq  # noqa: E402

from hashing import video  # noqa: E402
from hashing.signal_types import vpdq_signal  # noqa: E402
from tests.videos import copy_video, make_video  # noqa: E402


def corpus(long):
    return {
        "h264-29.97-1s.mp4": dict(seconds=1, fps="30000/1001", codec="h264", container="mp4"),
        "h264-29.97-640x360.mp4": dict(seconds=20, fps="30000/1001", size=(640, 360), codec="h264", container="mp4"),
        "h264-variable.mp4": dict(seconds=20, fps=30, variable=True, codec="h264", container="mp4"),
        "h264-rotated-90.mov": dict(seconds=10, fps=30, size=(360, 640), rotate=90, codec="h264", container="mov"),
        "h264-60-motion.mkv": dict(seconds=10, fps=60, size=(320, 240), codec="h264", container="mkv",
                                   source="motion"),
        "h264-1080p.mp4": dict(seconds=10, fps=30, size=(1920, 1080), codec="h264", container="mp4"),
        f"h264-{long}s.mp4": dict(seconds=long, fps=25, size=(480, 270), codec="h264", container="mp4"),
        "hevc-50.mp4": dict(seconds=10, fps=50, size=(320, 180), codec="hevc", container="mp4"),
        "vp8-odd-24.webm": dict(seconds=10, fps=24, size=(161, 119), codec="vp8", container="webm"),
        "vp8-15.webm": dict(seconds=10, fps=15, size=(400, 300), codec="vp8", container="webm",
                            source="photo:astronaut"),
        "vp9-odd-motion.webm": dict(seconds=10, fps=30, size=(203, 117), codec="vp9", container="webm",
                                    source="motion"),
        "vp9-variable.webm": dict(seconds=10, fps=25, size=(426, 240), variable=True, codec="vp9",
                                  container="webm"),
        "vp9-29.97.mp4": dict(seconds=10, fps="30000/1001", size=(320, 240), codec="vp9", container="mp4"),
        "av1-15.webm": dict(seconds=10, fps=15, size=(256, 144), codec="av1", container="webm"),
        "av1-odd.webm": dict(seconds=6, fps=24, size=(255, 143), codec="av1", container="webm",
                             source="photo:coffee"),
        "av1-60.mp4": dict(seconds=6, fps=60, size=(192, 108), codec="av1", container="mp4", source="photo:cat"),
    }


def distances(ours, theirs):
    a, b = json_to_vpdq(ours), json_to_vpdq(theirs)
    if [(f.quality, f.timestamp) for f in a] != [(f.quality, f.timestamp) for f in b]:
        return None
    return [(int(x.pdq_hex, 16) ^ int(y.pdq_hex, 16)).bit_count() for x, y in zip(a, b, strict=True)]


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def both_ways(a, b):
    return VPDQSignal.compare_hash(a, b).match and VPDQSignal.compare_hash(b, a).match


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--long", type=int, default=120, help="length of the longest video, seconds")
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="vpdq-corpus-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{'video':28} {'frames':>6} {'same':>5} {'median':>6} {'max':>4} {'text':>5} {'match':>5} "
          f"{'ours s':>7} {'vpdq s':>7}")
    all_distances, texts_equal, ours_total, theirs_total = [], 0, 0.0, 0.0
    for name, spec in corpus(args.long).items():
        path = folder / name
        if not path.exists():
            make_video(path, **spec)
        ours, ours_s = timed(lambda p: vpdq_signal(video.vpdq_frames(p)), path)
        theirs, theirs_s = timed(VPDQSignal.hash_from_file, path)
        found = distances(ours, theirs)
        if found is None:
            print(f"{name:28} frames, times or qualities differ")
            continue
        all_distances += found
        texts_equal += ours == theirs
        ours_total, theirs_total = ours_total + ours_s, theirs_total + theirs_s
        text, match = "same" if ours == theirs else "diff", "yes" if both_ways(ours, theirs) else "NO"
        print(f"{name:28} {len(found):6} {sum(d == 0 for d in found):5} {statistics.median(found):6} "
              f"{max(found):4} {text:>5} {match:>5} {ours_s:7.2f} {theirs_s:7.2f}")
    print(f"\n{len(corpus(args.long))} videos, {texts_equal} identical texts; {len(all_distances)} frames, "
          f"{sum(d == 0 for d in all_distances)} identical; PDQ distance median {statistics.median(all_distances)}, "
          f"max {max(all_distances)}; time ours {ours_total:.1f} s, vpdq {theirs_total:.1f} s")

    original = make_video(folder / "original.mp4", seconds=30, fps="30000/1001", size=(640, 360))
    reference = vpdq_signal(video.vpdq_frames(original))
    copies = {
        "another bitrate (VP9, 250k)": copy_video(original, folder / "c-bitrate.webm", bitrate="250k", codec="vp9",
                                                  container="webm"),
        "half the size": copy_video(original, folder / "c-half.mp4", scale=0.5),
        "trimmed by 10 %": copy_video(original, folder / "c-trim.mp4", trim=0.1),
        "unrelated": make_video(folder / "c-other.mp4", seconds=30, fps=30, size=(640, 360), source="photo:rocket"),
    }
    print("\ncopy of a 30 s original          query %  compared %  match")
    for label, path in copies.items():
        found = VPDQSignal.hash_from_file(path)
        result = VPDQSignal.compare_hash(found, reference)
        print(f"{label:32} {result.distance.query_match_percent:7.1f} {result.distance.compared_match_percent:11.1f}"
              f"  {'yes' if result.match else 'no'}")


if __name__ == "__main__":
    main()
