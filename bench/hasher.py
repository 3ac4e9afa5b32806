"""Benchmark: the browser hasher against the Python reference hasher, in one run on the same files.

    .venv/bin/python bench/hasher.py [--files 5] [--repeat 3] [--md5-mb 1024]

Prints the median ms per 12 MP JPEG for the browser (decode + PDQ + pHash + MD5, hashFile in headless
Chromium) and for the Python reference (Pillow decode + pdqhash + imagehash + MD5), their ratio (goal:
browser <= 1.0x), and MB/s for MD5 of a large file in the browser (streamed from disk) against hashlib.
"""

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from skimage import data  # noqa: E402

from hashing.reference import hash_file  # noqa: E402
from tests.browser_hasher import CHROMIUM, CHROMIUM_ARGS, HarnessSite  # noqa: E402
from tests.hashing_corpus import scaled  # noqa: E402

PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field", "retina"]

HASH_INPUT_JS = """async (index) => {
  const file = document.getElementById("files").files[index];
  const started = performance.now();
  const result = await window.hasher.hashFile(file);
  return {ms: performance.now() - started, md5: result.md5, pdq: result.pdq};
}"""


def make_photos(directory, count):
    paths = []
    for i in range(count):
        path = directory / f"photo{i}.jpg"
        pixels = scaled(getattr(data, PHOTOS[i % len(PHOTOS)])(), 4000, 3000)  # 12 MP
        Image.fromarray(pixels).save(path, quality=90)
        paths.append(path)
    return paths


def python_ms(path):
    started = time.perf_counter()
    record = hash_file(path)
    return (time.perf_counter() - started) * 1000, record


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--md5-mb", type=int, default=1024)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        photos = make_photos(tmp, args.files)
        big = tmp / "big.bin"
        with open(big, "wb") as f:
            block = os.urandom(1 << 20)
            for i in range(args.md5_mb):
                f.write(block[i % 7:] + block[: i % 7])
        site = HarnessSite(tmp / "site")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = site.open(browser.new_page())
            page.locator("#files").set_input_files([str(path) for path in photos] + [str(big)])
            page.evaluate(HASH_INPUT_JS, 0)  # warm-up: compile the worker's code

            browser_times, python_times = [], []
            for _ in range(args.repeat):
                for index, path in enumerate(photos):  # interleaved, so both see the same machine load
                    got = page.evaluate(HASH_INPUT_JS, index)
                    ms, want = python_ms(path)
                    assert got["md5"] == want["md5"] and got["pdq"] == want["pdq"], f"{path.name}: hashes differ"
                    browser_times.append(got["ms"])
                    python_times.append(ms)

            md5_browser = page.evaluate(HASH_INPUT_JS, len(photos))
            started = time.perf_counter()
            digest = hashlib.md5(usedforsecurity=False)
            with open(big, "rb") as f:
                while chunk := f.read(8 << 20):
                    digest.update(chunk)
            md5_python_s = time.perf_counter() - started
            assert md5_browser["md5"] == digest.hexdigest()
            browser.close()
        site.close()

    browser_ms, reference_ms = statistics.median(browser_times), statistics.median(python_times)
    print(f"12 MP JPEG, median of {len(browser_times)} runs over {args.files} files")
    print(f"  browser hashFile (decode + PDQ + pHash + MD5):   {browser_ms:8.0f} ms")
    print(f"  Python reference (decode + pdqhash + imagehash + MD5): {reference_ms:8.0f} ms")
    print(f"  ratio browser / reference: {browser_ms / reference_ms:.2f}x (goal <= 1.00x)")
    mb = args.md5_mb
    print(f"MD5 of a {mb} MB file: browser {mb / (md5_browser['ms'] / 1000):.0f} MB/s, "
          f"hashlib {mb / md5_python_s:.0f} MB/s (ratio {md5_python_s * 1000 / md5_browser['ms']:.2f}x)")


if __name__ == "__main__":
    main()
