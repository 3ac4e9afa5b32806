"""Benchmark: the browser's video fingerprint (vPDQ + MD5, hashFile in headless Chromium) against the Python
reference (hashing/video.py's vpdq_frames + MD5, PyAV's FFmpeg) in one run, on the same video.

    .venv/bin/python bench/video.py [--seconds 60] [--size 1920x1080] [--fps 30] [--bitrate 8M] [--repeat 3]

Makes a 1-minute 1080p H.264 MP4 with FFmpeg (tests/videos.py: real photographs panned; 10 s played 6 times),
hashes it with both,
interleaved, and prints the median seconds of each, their ratio (goal: browser <= 1.5x the reference) and how
much faster than real time the browser is (goal: faster than the video plays). Both sides must give the same vPDQ.
"""

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from playwright.sync_api import sync_playwright  # noqa: E402

from hashing import video as python_vpdq  # noqa: E402  (hashing/video.py)
from tests.browser_hasher import CHROMIUM, CHROMIUM_ARGS, HarnessSite  # noqa: E402
from tests.videos import make_video, run  # noqa: E402

HASH_INPUT_JS = """async () => {
  const file = document.getElementById("files").files[0];
  const started = performance.now();
  const result = await window.hasher.hashFile(file);
  return {seconds: (performance.now() - started) / 1000, md5: result.md5, vpdq: result.vpdq, frames: result.frames,
          warning: result.warning || null};
}"""


def reference(path):
    started = time.perf_counter()
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    signal = python_vpdq.vpdq_signal(python_vpdq.vpdq_frames(path))
    return time.perf_counter() - started, digest.hexdigest(), signal


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--fps", default="30")
    parser.add_argument("--bitrate", default="8M", help="H.264 bitrate, about a phone's at 1080p")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        started = time.perf_counter()
        # Encoding panned photographs at 1080p is slow here, so 10 s are made and played 6 times into one stream
        # (no re-encoding): still 60 s of 1080p frames to decode, as many as a 1-minute video has.
        part = make_video(tmp / "part.mp4", seconds=min(args.seconds, 10), fps=args.fps, size=(width, height),
                          codec="h264", container="mp4", source="photos", bitrate=args.bitrate)
        loops = -(-args.seconds // min(args.seconds, 10))
        video = tmp / "video.mp4"
        run(["-stream_loop", str(loops - 1), "-i", str(part), "-c", "copy", "-t", str(args.seconds), str(video)])
        print(f"made {video.stat().st_size / 1e6:.0f} MB, {args.seconds} s of {width}x{height} H.264 at "
              f"{args.fps} fps ({args.bitrate}bit/s asked) in {time.perf_counter() - started:.0f} s")
        site = HarnessSite(tmp / "site")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = site.open(browser.new_page())
            page.locator("#files").set_input_files(str(video))
            browser_times, python_times = [], []
            for _ in range(args.repeat):  # interleaved, so both see the same machine load
                got = page.evaluate(HASH_INPUT_JS)
                seconds, md5, signal = reference(video)
                assert got["warning"] is None, got["warning"]
                assert got["md5"] == md5 and got["vpdq"] == signal, "the browser's vPDQ differs from the reference"
                browser_times.append(got["seconds"])
                python_times.append(seconds)
            browser.close()
        site.close()

    browser_s, reference_s = statistics.median(browser_times), statistics.median(python_times)
    print(f"{args.seconds} s {width}x{height} H.264, {got['frames']} frames hashed, median of {args.repeat} runs")
    print(f"  browser hashFile (MD5 + demux + WebCodecs decode + vPDQ): {browser_s:7.1f} s")
    print(f"  Python reference (MD5 + PyAV decode + vPDQ):              {reference_s:7.1f} s")
    print(f"  ratio browser / reference: {browser_s / reference_s:.2f}x (goal <= 1.50x)")
    print(f"  browser speed: {args.seconds / browser_s:.1f}x real time (goal > 1.0x)")


if __name__ == "__main__":
    main()
