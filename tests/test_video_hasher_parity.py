"""The browser's vPDQ (hashing/static/hashing/video.js, in headless Chromium) against the Python reference
(hashing/video.py) on videos FFmpeg makes here: several codecs, containers, frame rates (29.97, variable), sizes
(odd, portrait, rotated). Per video the frame count, the per-frame PDQ distances (median, max), and a match both
ways under python-threatexchange's own VPDQSignal.compare_hash; copies a person would make (another bitrate, half
size, 10 % cut) match the original, unrelated videos do not. Also: the RGB conversion (swscale.js) equals
FFmpeg's swscale byte for byte on random frames, and the timestamps' text equals Python's."""

import json
import statistics
import struct

import numpy
import pytest
from threatexchange.extensions.vpdq.vpdq import VPDQSignal

from hashing import video as python_vpdq  # the Python reference (hashing/video.py)
from tests.browser_hasher import HASH_FILES_JS, HarnessSite, hashed_watching_memory, md5_of
from tests.videos import copy_video, make_video, run

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# name -> make_video arguments: a few seconds each (the long ones are bench/video.py's).
CORPUS = {
    "h264-29.97.mp4": dict(seconds=4, fps="30000/1001", size=(320, 240), codec="h264", container="mp4"),
    "h264-25-motion.mov": dict(seconds=3, fps=25, size=(256, 144), codec="h264", container="mov", source="motion"),
    "h264-variable.mp4": dict(seconds=3, fps=30, size=(320, 240), codec="h264", container="mp4", variable=True),
    "h264-rotated.mp4": dict(seconds=2, fps=24, size=(320, 180), codec="h264", container="mp4", rotate=90),
    "vp9-odd.webm": dict(seconds=3, fps=30, size=(321, 181), codec="vp9", container="webm"),
    "vp9-odd-width.mkv": dict(seconds=2, fps=15, size=(241, 160), codec="vp9", container="mkv", source="motion"),
    "vp8-portrait.webm": dict(seconds=2, fps=24, size=(180, 320), codec="vp8", container="webm", source="motion"),
    "av1.mp4": dict(seconds=2, fps=30, size=(320, 240), codec="av1", container="mp4"),
    "av1-odd.webm": dict(seconds=2, fps="30000/1001", size=(199, 111), codec="av1", container="webm"),
    "vp9-variable.webm": dict(seconds=3, fps=30, size=(320, 240), codec="vp9", container="webm", variable=True),
}


def pdq_distance(a, b):
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def frames_of(signal):
    return [item.split(",") for item in json.loads(signal)]


def matches(query, target):
    """python-threatexchange's verdict (80 % of the query's frames within distance 31 of the target's)."""
    return VPDQSignal.compare_hash(query, target).match


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = HarnessSite(tmp_path_factory.mktemp("video-site"))
    yield site
    site.close()


@pytest.fixture
def harness(site, page):
    return site.open(page)


def browser_hashes(harness, site, paths):
    results = harness.evaluate(HASH_FILES_JS, [f"/{p.relative_to(site.root)}" for p in paths])
    return dict(zip(paths, results, strict=True))


@pytest.fixture(scope="module")
def corpus(site):
    folder = site.root / "corpus"
    folder.mkdir(exist_ok=True)
    videos = {name: make_video(folder / name, **kwargs) for name, kwargs in CORPUS.items()}
    # A cut without re-encoding: the MP4 keeps the frames from the keyframe before the cut, and an edit list says
    # where to start; FFmpeg drops the frames before that start, and so must the browser.
    cut = folder / "h264-stream-copied-cut.mp4"
    run(["-ss", "1.5", "-i", str(videos["h264-29.97.mp4"]), "-c", "copy", str(cut)])
    videos[cut.name] = cut
    # Full range: FFmpeg's H.264 decoder gives a "J" pixel format, which the reference reads as full range; a VP9
    # frame merely tagged full range is read as limited (the vpdq package's swscale). Chromium tags both full.
    source = videos["h264-29.97.mp4"]
    full = folder / "h264-full-range.mp4"
    run(["-i", str(source), "-vf", "scale=out_range=full", "-pix_fmt", "yuvj420p", "-c:v", "libx264", "-preset",
         "veryfast", "-color_range", "pc", str(full)])
    tagged = folder / "vp9-tagged-full-range.webm"
    run(["-i", str(source), "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-pix_fmt", "yuv420p",
         "-color_range", "pc", str(tagged)])
    # MPEG-TS states no frame rate: FFmpeg estimates it, and so does the browser.
    ts = folder / "h264.ts"
    run(["-i", str(source), "-c", "copy", "-f", "mpegts", str(ts)])
    videos.update({full.name: full, tagged.name: tagged, ts.name: ts})
    return videos


def test_every_video_matches_its_reference_both_ways(corpus, harness, site):
    got = browser_hashes(harness, site, list(corpus.values()))
    lines = [f"{'video':27} {'frames':>6} {'identical':>9} {'median':>6} {'max':>4}"]
    worst = 0
    for name, path in corpus.items():
        result = got[path]
        want = python_vpdq.vpdq_signal(python_vpdq.vpdq_frames(path))
        assert result.get("warning") is None, (name, result)
        assert result["kind"] == "video" and result["vpdq"], name
        ours, theirs = frames_of(result["vpdq"]), frames_of(want)
        assert result["frames"] == len(ours) == len(theirs), name
        # Same frames sampled at the same times, with the same quality.
        assert [f[1:] for f in ours] == [f[1:] for f in theirs], name
        distances = [pdq_distance(a[0], b[0]) for a, b in zip(ours, theirs, strict=True)]
        worst = max(worst, *distances)
        lines.append(f"{name:27} {len(ours):6} {distances.count(0):9} {statistics.median(distances):6g} "
                     f"{max(distances):4}")
        assert matches(result["vpdq"], want) and matches(want, result["vpdq"]), name
    print("\nbrowser vPDQ against the Python reference, per-frame PDQ distance:\n" + "\n".join(lines))
    # Decoders of these codecs are bit-exact by their specifications and the RGB conversion is swscale's own
    # arithmetic, so the frames hash identically; the signal text is then byte for byte the reference's.
    assert worst == 0
    for path in corpus.values():
        assert got[path]["vpdq"] == python_vpdq.vpdq_signal(python_vpdq.vpdq_frames(path)), path.name


def test_copies_match_the_original_and_unrelated_videos_do_not(site, harness):
    folder = site.root / "copies"
    folder.mkdir(exist_ok=True)
    # 10 s, so the 10 % cut is 1 s and the copy's sampled frames (one a second) show what the original's do. A cut
    # between two sampling points matches only where the picture changes little within a second: this test
    # video pans fast, and at an 8 s length vPDQ itself (the reference) finds 12 % of frames, no match.
    original = make_video(folder / "original.mp4", seconds=10, fps=30, size=(480, 270), source="photo:astronaut")
    copies = [
        copy_video(original, folder / "lower-bitrate.mp4", bitrate="120k"),
        copy_video(original, folder / "half-size.webm", scale=0.5, codec="vp9", container="webm"),
        copy_video(original, folder / "trimmed.mp4", trim=0.1),
    ]
    unrelated = [
        make_video(folder / "other-photo.mp4", seconds=10, fps=30, size=(480, 270), source="photo:coffee"),
        make_video(folder / "motion.webm", seconds=4, fps=25, size=(320, 240), codec="vp9", container="webm",
                   source="motion"),
    ]
    reference = python_vpdq.vpdq_signal(python_vpdq.vpdq_frames(original))
    got = browser_hashes(harness, site, copies + unrelated)
    for path in copies:
        signal = got[path]["vpdq"]
        assert signal, path.name
        assert matches(signal, reference) and matches(reference, signal), path.name
    for path in unrelated:
        signal = got[path]["vpdq"]
        assert signal, path.name
        assert not matches(signal, reference) and not matches(reference, signal), path.name


def test_a_codec_this_browser_cannot_decode_keeps_the_md5_and_says_so(site, harness):
    """Debian's Chromium has no HEVC decoder (as many browsers): MD5 only, a plain warning, never a guessed vPDQ."""
    import hashlib

    path = make_video(site.root / "iphone-like.mp4", seconds=1, fps=30, size=(320, 240), codec="hevc")
    result = browser_hashes(harness, site, [path])[path]
    assert result["kind"] == "video" and result["md5"] == hashlib.md5(path.read_bytes()).hexdigest()
    assert result["vpdq"] is None and result["frames"] is None
    assert "HEVC" in result["warning"] and "MD5" in result["warning"]


SWSCALE_JS = """async ([url, format, width, height, fullRange]) => {
  const { FrameConverter } = await import("/hashing/swscale.js");
  const data = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const [sx, sy] = {I420: [1, 1], I422: [1, 0], I444: [0, 0]}[format];
  const cw = (width + (1 << sx) - 1) >> sx, ch = (height + (1 << sy) - 1) >> sy;
  const planes = {data, yOff: 0, yStride: width, uOff: width * height, vOff: width * height + cw * ch,
    cStride: cw, cStep: 1};
  const converter = new FrameConverter(format, width, height, fullRange);
  const luma = new Float32Array(width * height), strip = new Float32Array(width * 7);
  for (let y0 = 0; y0 < height; y0 += 7) {
    const n = Math.min(7, height - y0);
    converter.lumaRows(planes, y0, n, strip);
    luma.set(strip.subarray(0, n * width), y0 * width);
  }
  return {route: converter.route, luma: Array.from(luma)};
}"""


@pytest.mark.parametrize("format", ["I420", "I422", "I444"])
def test_rgb_conversion_is_swscales_byte_for_byte(format, site, harness):
    """Random frames of even and odd sizes, limited and full range: the luminance PDQ takes from swscale.js's RGB
    equals the one from the reference's (PyAV's swscale with hashing/video.py's settings), value for value."""
    import av
    from av.video.reformatter import ColorRange


    pix_fmt, sx, sy = {"I420": ("yuv420p", 1, 1), "I422": ("yuv422p", 1, 0), "I444": ("yuv444p", 0, 0)}[format]
    rng = numpy.random.default_rng(19)
    routes = set()
    for width, height in [(64, 48), (65, 48), (64, 37), (65, 37), (7, 5), (322, 181)]:
        for full in (False, True):
            cw, ch = (width + (1 << sx) - 1) >> sx, (height + (1 << sy) - 1) >> sy
            planes = [rng.integers(0, 256, shape, dtype=numpy.uint8) for shape in ((height, width), (ch, cw),
                                                                                  (ch, cw))]
            # Full range as the reference sees it: a decoder's "J" format (FFmpeg's H.264 gives it for full range).
            frame = av.VideoFrame(width, height, pix_fmt.replace("yuv", "yuvj") if full else pix_fmt)
            frame.color_range = ColorRange.JPEG if full else ColorRange.MPEG
            for plane, values in zip(frame.planes, planes, strict=True):
                buffer = numpy.frombuffer(plane, numpy.uint8).reshape(plane.height, plane.line_size)
                buffer[:, :values.shape[1]] = values
            rgb = python_vpdq.to_rgb(frame, width, height).astype(numpy.float64)
            want = (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114).astype(numpy.float32)
            name = f"frame-{format}-{width}x{height}-{int(full)}.yuv"
            (site.root / name).write_bytes(b"".join(p.tobytes() for p in planes))
            got = harness.evaluate(SWSCALE_JS, [f"/{name}", format, width, height, full])
            routes.add(got["route"])
            luma = numpy.array(got["luma"], dtype=numpy.float32).reshape(height, width)
            assert numpy.array_equal(luma, want), (format, width, height, full, int((luma != want).sum()))
    assert routes == ({"A", "B", "C"} if format != "I444" else {"C"})


def test_timestamps_are_written_as_python_writes_them(site, harness):
    values = [0.0, 1.0, 0.968, 1.94, 10.0, 12.34, 99.94, 99.95, 99.96, 100.0, 123.4, 0.05, 0.0001, 1.234e-05,
              1.125, 2.5, 0.0625, 1.0625, 3.0005, 1234567.0, 5.0, 12.0, 0.3336666, 59.94, 3599.0]
    floats = [float(numpy.float32(n) / numpy.float32(30000 / 1001)) for n in range(0, 20000, 29)]
    values += floats + [float(numpy.float32(n) / numpy.float32(24.5)) for n in range(0, 5000, 24)]
    got = harness.evaluate("""async (values) => {
      const { pythonFloat3 } = await import("/hashing/video.js");
      return values.map(pythonFloat3);
    }""", values)
    assert got == [f"{v:.3}" for v in values]
    times = harness.evaluate("""async () => {
      const { frameTimestamp } = await import("/hashing/video.js");
      return [29, 58, 4321, 19981].map((n) => frameTimestamp(n, 30000 / 1001));
    }""")
    assert times == [float(numpy.float32(n) / numpy.float32(30000 / 1001)) for n in (29, 58, 4321, 19981)]


def _boxes(data, start, end):
    while start < end:
        size, kind = struct.unpack(">I4s", data[start:start + 8])
        yield kind, start, size
        start += size


def media_past_2_gib(video, out):
    """The same video with its frames moved past a 2 GiB (sparse) 'free' box: ftyp, moov, free, mdat, the moov's
    chunk offsets moved along. The hasher must stream the MD5 through it and read frames from beyond it."""
    faststart = out.with_suffix(".faststart.mp4")
    run(["-i", str(video), "-c", "copy", "-movflags", "+faststart", str(faststart)])
    data = faststart.read_bytes()
    boxes = {kind: (start, size) for kind, start, size in _boxes(data, 0, len(data))}
    (ftyp, moov, mdat) = (boxes[b"ftyp"], boxes[b"moov"], boxes[b"mdat"])
    gap = 2 << 30
    delta = (ftyp[1] + moov[1] + gap) - mdat[0]
    moov_bytes = bytearray(data[moov[0]:moov[0] + moov[1]])

    def patch(start, end):
        for kind, at, size in _boxes(moov_bytes, start, end):
            if kind in (b"trak", b"mdia", b"minf", b"stbl"):
                patch(at + 8, at + size)
            elif kind == b"stco":
                count = struct.unpack(">I", moov_bytes[at + 12:at + 16])[0]
                for i in range(count):
                    p = at + 16 + 4 * i
                    moov_bytes[p:p + 4] = struct.pack(">I", struct.unpack(">I", moov_bytes[p:p + 4])[0] + delta)
            elif kind == b"co64":
                raise AssertionError("64-bit chunk offsets: not needed for this test video")
    patch(8, len(moov_bytes))
    with open(out, "wb") as f:
        f.write(data[ftyp[0]:ftyp[0] + ftyp[1]])
        f.write(moov_bytes)
        f.write(struct.pack(">I4s", gap, b"free"))
        f.seek(gap - 8, 1)  # sparse: quick to make, still 2 GiB to read
        f.write(data[mdat[0]:mdat[0] + mdat[1]])
    faststart.unlink()
    return out


LARGE_JS = """async () => {
  const file = document.getElementById("files").files[0];
  const phases = new Set();
  let last = null;
  const result = await window.hasher.hashFile(file, {onProgress: (p) => { phases.add(p.phase); last = p; }});
  return {...result, phases: [...phases], last};
}"""


def test_a_2_gib_video_is_fingerprinted_in_bounded_memory(tmp_path, page):
    """Frames read from past 2 GiB (the file's slices, never the whole file), memory bounded, the reference's
    vPDQ, and progress in frames done of frames expected."""
    small = make_video(tmp_path / "small.mp4", seconds=6, fps=30, size=(640, 360))
    video = media_past_2_gib(small, tmp_path / "long-video.mp4")
    result, grown = hashed_watching_memory(page, tmp_path / "site", video, LARGE_JS)
    print(f"\n2 GiB video with its frames at the end: Chromium memory grew by {grown:.0f} MiB at most")
    assert result["md5"] == md5_of(video)
    assert result.get("warning") is None, result.get("warning")
    signal = python_vpdq.vpdq_signal
    assert result["vpdq"] == signal(python_vpdq.vpdq_frames(video)) == signal(python_vpdq.vpdq_frames(small))
    assert result["phases"] == ["md5", "video"]
    assert result["last"] == {"phase": "video", "done": 180, "total": 180}  # frames decoded of frames expected
    assert grown < 400, f"Chromium grew by {grown:.0f} MiB while hashing a 2 GiB video"
