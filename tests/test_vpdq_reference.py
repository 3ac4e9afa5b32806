"""The Python vPDQ reference (hashing/video.py): the sampling rule, the signal's text, what it refuses.

Its equality with Meta's own `vpdq` package is tests/test_vpdq_parity.py's."""

import io
import json
import subprocess

import numpy
import pdqhash
import pytest
from django.core.management import call_command
from skimage import data

from hashing import signal_types, video
from tests.videos import FFMPEG, copy_video, make_video


def pdq_hex(pixels):
    bits, quality = pdqhash.compute(pixels)
    return f"{int(''.join(str(int(b)) for b in bits), 2):064x}", int(quality)


def lossless_video(path, frames, rate):
    """RGB frames stored losslessly (FFV1, RGB): every decoded frame is exactly the pixels we wrote."""
    height, width = frames[0].shape[:2]
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
                    "-s", f"{width}x{height}", "-framerate", rate, "-i", "-", "-c:v", "ffv1", "-pix_fmt", "bgr0",
                    str(path)], input=b"".join(f.tobytes() for f in frames), check=True)
    return path


def distinct_frames(count, width=96, height=64):
    """Each frame a different window of a photograph, so each has its own PDQ."""
    photo = data.astronaut()
    return [numpy.ascontiguousarray(photo[4 * n:4 * n + height, 3 * n:3 * n + width]) for n in range(count)]


def test_frames_sampled_hashed_and_timed_by_the_rule(tmp_path):
    frames = distinct_frames(70)
    path = lossless_video(tmp_path / "a.mkv", frames, "30000/1001")
    hashed = video.vpdq_frames(path)
    # 29.97 fps: every int(29.97) = 29th frame, at n / 29.97 s in single precision.
    assert [h.pdq_hex for h in hashed] == [pdq_hex(frames[n])[0] for n in (0, 29, 58)]
    assert [h.quality for h in hashed] == [pdq_hex(frames[n])[1] for n in (0, 29, 58)]
    assert [f"{h.timestamp:.3}" for h in hashed] == ["0.0", "0.968", "1.94"]
    assert hashed[2].timestamp == float(numpy.float32(58) / numpy.float32(30000 / 1001))


def test_a_frame_rate_under_one_hashes_every_frame(tmp_path):
    frames = distinct_frames(3)
    hashed = video.vpdq_frames(lossless_video(tmp_path / "slow.mkv", frames, "1/2"))
    assert [h.pdq_hex for h in hashed] == [pdq_hex(f)[0] for f in frames]
    assert [h.timestamp for h in hashed] == [0.0, 2.0, 4.0]


def test_signal_is_the_exchange_text():
    frames = [video.VpdqFrame("ab" * 32, 100, 0.0), video.VpdqFrame("cd" * 32, 49, 0.967634),
              video.VpdqFrame("ef" * 32, 7, 123.456)]
    text = video.vpdq_signal(frames)
    # python-threatexchange's VpdqCompactFeature writes the time as f"{t:.3}": three significant digits.
    assert text == json.dumps([f"{'ab' * 32},100,0.0", f"{'cd' * 32},49,0.968", f"{'ef' * 32},7,1.23e+02"])
    assert [f.pdq_hex for f in signal_types.vpdq_frames_of(text)] == ["ab" * 32, "cd" * 32, "ef" * 32]
    assert video.vpdq_signal(signal_types.vpdq_frames_of(text)) == text


@pytest.mark.parametrize(("value", "says"), [
    (None, "JSON array"),
    ("not json", "not valid JSON"),
    ('{"a": 1}', "JSON array"),
    ("[]", "no frames"),
    (json.dumps(["ab" * 32 + ",100,2.0", "ab" * 32 + ",100,1.0"]), "no earlier than"),
    ('["' + "ab" * 32 + ',100"]', "frame 0 must be"),
    ('["' + "ab" * 31 + ',100,0.0"]', "frame 0 must be"),
    ('["' + "ab" * 32 + ',101,0.0"]', "quality must be 0-100"),
    ('["' + "ab" * 32 + ',100,-1.0"]', "timestamp"),
    ('["' + "ab" * 32 + ',100,1e999"]', "timestamp"),
    (json.dumps(["ab" * 32 + ",100,0.0"] * 4), "at most 3"),
])
def test_bad_signals_are_refused_with_a_reason(value, says):
    with pytest.raises(signal_types.InvalidSignal, match=says):
        signal_types.vpdq_frames_of(value, max_frames=3)


def test_tiny_and_frameless_videos_cannot_be_decoded(tmp_path):
    tiny = lossless_video(tmp_path / "tiny.mkv", [numpy.full((4, 8, 3), 90, numpy.uint8)] * 3, "25")
    with pytest.raises(video.CannotDecode, match="smaller than 5 pixels"):
        video.vpdq_frames(tiny)
    sound = tmp_path / "sound.mp4"
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=duration=1", "-c:a", "aac", str(sound)], check=True)
    with pytest.raises(video.CannotDecode, match="no video stream"):
        video.vpdq_frames(sound)


def test_hashfiles_gives_a_video_its_vpdq_and_frame_count(tmp_path):
    path = make_video(tmp_path / "clip.webm", seconds=3, fps=25, size=(161, 121), codec="vp9", container="webm")
    out = io.StringIO()
    call_command("hashfiles", str(path), stdout=out)
    line = json.loads(out.getvalue())
    assert line["kind"] == "video" and line["frames"] == 3 and line["pdq"] is None
    assert line["vpdq"] == video.vpdq_signal(video.vpdq_frames(path))
    assert [f.timestamp for f in signal_types.vpdq_frames_of(line["vpdq"])] == [0.0, 1.0, 2.0]


def test_rotation_metadata_is_ignored_as_vpdq_ignores_it(tmp_path):
    upright = make_video(tmp_path / "a.mp4", seconds=2, fps=10, size=(160, 96))
    turned = make_video(tmp_path / "b.mp4", seconds=2, fps=10, size=(160, 96), rotate=90)
    assert video.vpdq_frames(turned) == video.vpdq_frames(upright)


def test_copies_match_and_unrelated_videos_do_not(tmp_path):
    """The matching python-threatexchange does (VPDQSignal.compare_hash: quality >= 50, distance <= 31, 80 % of
    the query's frames), here written out so it runs without the vpdq package; test_vpdq_parity runs the real."""
    original = make_video(tmp_path / "o.mp4", seconds=6, fps=24, size=(320, 240), source="photo:chelsea")
    copies = [copy_video(original, tmp_path / "half.mp4", scale=0.5),
              copy_video(original, tmp_path / "low.webm", bitrate="120k", codec="vp9", container="webm"),
              copy_video(original, tmp_path / "trim.mp4", trim=0.1)]
    other = make_video(tmp_path / "x.mp4", seconds=6, fps=24, size=(320, 240), source="photo:rocket")
    ours = video.vpdq_frames(original)
    for copy in copies:
        assert match_percent(video.vpdq_frames(copy), ours) >= 80, copy.name
    assert match_percent(video.vpdq_frames(other), ours) < 20


def match_percent(query, compared):
    def usable(frames):
        seen, kept = set(), []
        for f in frames:
            if f.pdq_hex not in seen:
                seen.add(f.pdq_hex)
                if f.quality >= video.QUALITY_THRESHOLD:
                    kept.append(f)
        return kept

    query, compared = usable(query), usable(compared)
    near = sum(any((int(q.pdq_hex, 16) ^ int(c.pdq_hex, 16)).bit_count() <= 31 for c in compared) for q in query)
    return 100 * near / len(query)



def test_a_video_longer_than_the_frames_we_fingerprint_keeps_its_md5_only(tmp_path, monkeypatch):
    path = lossless_video(tmp_path / "long.mkv", distinct_frames(7), "2")  # frames 0, 2, 4, 6 are hashed
    assert len(video.vpdq_frames(path)) == 4
    monkeypatch.setattr(video, "MAX_FRAMES", 3)
    fields = video.video_fields(path)
    assert fields["vpdq"] is None and fields["frames"] is None
    assert fields["vpdq_error"].startswith("no vPDQ: it is longer than the 3 frames we fingerprint")
