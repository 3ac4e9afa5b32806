"""A small static site for driving the browser hasher outside the portal: the hasher's own files, the test
corpus and raw pixel files, served on loopback. The portal's pages are tested through live_server instead."""

import functools
import hashlib
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.local_servers import serve_in_thread

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
HASHER_DIR = Path(__file__).resolve().parent.parent / "hashing" / "static" / "hashing"
MEDIABUNNY_DIR = Path(__file__).resolve().parent.parent / "node_modules" / "mediabunny" / "dist" / "bundles"

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>hasher harness</title></head><body>
<input type="file" id="files" multiple>
<script type="module">
import * as hasher from "/hashing/hasher.js";
window.hasher = hasher;
window.hasherReady = true;
</script></body></html>"""


class QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript", ".mjs": "text/javascript"}

    def log_message(self, *args):
        pass


class HarnessSite:
    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "index.html").write_text(PAGE)
        link = self.root / "hashing"
        if not link.exists():
            link.symlink_to(HASHER_DIR, target_is_directory=True)
        vendor = self.root / "vendor"  # as STATICFILES_DIRS serves it
        vendor.mkdir(exist_ok=True)
        if not (vendor / "mediabunny").exists():
            (vendor / "mediabunny").symlink_to(MEDIABUNNY_DIR, target_is_directory=True)
        handler = functools.partial(QuietHandler, directory=str(self.root))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = serve_in_thread(self.server)

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def open(self, page):
        page.goto(self.url + "/index.html")
        page.wait_for_function("window.hasherReady === true")
        return page


HASH_FILES_JS = """async (urls) => {
  const out = [];
  for (const url of urls) {
    try {
      const blob = await (await fetch(url)).blob();
      out.push(await window.hasher.hashFile(blob));
    } catch (error) {
      out.push({error: String(error && error.message || error)});
    }
  }
  return out;
}"""

HASH_PIXELS_JS = """async ([url, width, height]) => {
  const buffer = await (await fetch(url)).arrayBuffer();
  return window.hasher.hashPixels(new Uint8ClampedArray(buffer), width, height);
}"""


def chromium_rss():
    """The resident memory of this process's Chromium processes, in bytes."""
    import psutil

    total = 0
    for child in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if "chrom" in child.name():
                total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def md5_of(path):
    """A large file's MD5, read in chunks (what the browser must find without holding the file)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(16 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def hashed_watching_memory(page, site_dir, path, script):
    """Hash the file at `path` in the harness with `script`, sampling Chromium's memory meanwhile: (the script's
    result, how many MiB Chromium grew at most)."""
    site = HarnessSite(site_dir)
    try:
        harness = site.open(page)
        harness.locator("#files").set_input_files(str(path))
        baseline, peak, done = chromium_rss(), [0], threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], chromium_rss())
                done.wait(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            result = harness.evaluate(script)
        finally:
            done.set()
            sampler.join()
    finally:
        site.close()
    return result, (peak[0] - baseline) / (1 << 20)
