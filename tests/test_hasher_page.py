"""The hasher as a person uses it: the staff check page hashes on the device (a real video's frames included) and
sends nothing about the files; a 24 MP photo reports progress and never freezes the page."""

import os

import numpy
import pytest
from PIL import Image

from hashing import reference
from hashing import video as python_vpdq  # the Python reference (hashing/video.py)
from tests.browser_hasher import HarnessSite, hashed_watching_memory, md5_of
from tests.conftest import make_staff, signed_in_context
from tests.hashing_corpus import ReferenceHashes, scaled
from tests.helpers import carries_file_bytes
from tests.videos import make_video

pytestmark = pytest.mark.browser

@pytest.fixture
def caller_files(tmp_path):
    from skimage import data

    files = {}
    photo = tmp_path / "holiday-beach-private.jpg"
    Image.fromarray(scaled(data.astronaut(), 900, 700)).save(photo, quality=90)
    png = tmp_path / "IMG_2231 me.png"
    Image.fromarray(scaled(data.coffee(), 300, 200)).save(png)
    video = tmp_path / "clip-secret.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(300_000))
    other = tmp_path / "notes-for-police.txt"
    other.write_bytes(os.urandom(5000))
    # A real video, whose frames are decoded and fingerprinted (vPDQ) on the device.
    real_video = make_video(tmp_path / "party night private.webm", seconds=3, fps=25, size=(320, 240), codec="vp9",
                            container="webm")
    for path in (photo, png, video, other, real_video):
        files[path] = path.read_bytes()
    return files


def test_check_page_hashes_on_the_device_and_sends_nothing_about_the_files(
        browser, live_server, transactional_db, caller_files):
    staff = make_staff("check@helpline.test", "partner_manager")
    context = signed_in_context(browser, live_server, staff)
    requests = []
    context.on("request", lambda request: requests.append(request))
    page = context.new_page()
    page.goto(live_server.url + "/hashing/check/")
    assert page.get_by_role("heading", name="Hasher check").is_visible()

    page.get_by_label("Files to hash").set_input_files([str(p) for p in caller_files])
    page.wait_for_selector("body[data-check-state=done]", timeout=60_000)

    rows = page.locator("#check-results tbody tr")
    assert rows.count() == len(caller_files)
    for index, path in enumerate(caller_files):
        want = reference.hash_file(path)
        row = rows.nth(index)
        cells = {f: row.locator(f"[data-field={f}]").inner_text() for f in ("kind", "md5", "pdq", "phash")}
        assert cells["kind"] == want["kind"] and cells["md5"] == want["md5"], path.name
        if want["kind"] == "image":
            assert cells["pdq"] == want["pdq"] and cells["phash"] == want["phash"], path.name
        if path.name.endswith(".webm"):  # the real video: its vPDQ, as the Python reference makes it
            assert row.get_attribute("data-vpdq") == python_vpdq.vpdq_signal(python_vpdq.vpdq_frames(path))
            assert row.locator("[data-field=note]").inner_text() == "vPDQ of 3 frames"

    # A partner pastes their own hasher's PDQ for the photo: two bits off still matches.
    photo_pdq = reference.hash_file(next(iter(caller_files)))["pdq"]
    theirs = f"{int(photo_pdq, 16) ^ 0b101:064x}"
    page.get_by_label("Compare with a value from your own hasher").fill(theirs)
    assert rows.nth(0).locator("[data-field=compare]").inner_text() == "PDQ 2 bits apart (a match)"
    assert rows.nth(2).locator("[data-field=compare]").inner_text() == "No PDQ for this file"
    page.get_by_label("Compare with a value from your own hasher").fill("xyz")
    assert rows.nth(0).locator("[data-field=compare]").inner_text() == "Not a PDQ, pHash or MD5 value"

    assert requests, "the recorder saw no requests at all"
    for request in requests:
        body = request.post_data_buffer or b""
        text = " ".join([request.url, str(request.headers), body.decode("latin-1")])
        for path, contents in caller_files.items():
            assert path.name not in text and path.stem not in text, f"{request.url} carries a file name"
            assert not carries_file_bytes(body, contents), f"{request.url} carries bytes of {path.name}"
            assert not carries_file_bytes(request.url.encode(), contents)
    context.close()


def test_the_recorder_would_notice_file_bytes():
    contents = os.urandom(1000)
    assert carries_file_bytes(b"prefix" + contents[100:140] + b"suffix", contents)
    assert not carries_file_bytes(b"prefix" + contents[100:130] + b"suffix", contents)  # 30 bytes: too short


LONG_TASKS_JS = """async (url) => {
  const longTasks = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push(entry.duration);
  });
  observer.observe({type: "longtask"});
  const blob = await (await fetch(url)).blob();
  const events = [];
  const started = performance.now();
  const result = await window.hasher.hashFile(blob, {onProgress: (p) => events.push(p)});
  const elapsed = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 200));
  observer.disconnect();
  return {events, longTasks, result, elapsed};
}"""


def test_24_megapixel_photo_reports_progress_without_freezing_the_page(tmp_path, page):
    from skimage import data

    Image.fromarray(scaled(data.chelsea(), 6000, 4000)).save(tmp_path / "big.jpg", quality=90)
    site = HarnessSite(tmp_path)
    try:
        outcome = site.open(page).evaluate(LONG_TASKS_JS, "/big.jpg")
    finally:
        site.close()
    print(f"\n24 MP: {outcome['elapsed']:.0f} ms, {len(outcome['events'])} progress events, "
          f"long tasks {outcome['longTasks']}")
    known = ReferenceHashes()  # the reference takes seconds over 24 MP: kept between runs, by the file's bytes
    assert outcome["result"]["pdq"] == known.hash_file(tmp_path / "big.jpg")["pdq"]
    known.save()
    assert len(outcome["events"]) >= 5
    assert all({"phase", "done", "total"} <= set(event) for event in outcome["events"])
    assert max(outcome["longTasks"], default=0) <= 200, outcome["longTasks"]
    assert numpy.all(numpy.diff([e["done"] for e in outcome["events"] if e["phase"] == "md5"]) >= 0)


MD5_INPUT_JS = """async () => {
  const file = document.getElementById("files").files[0];
  const phases = new Set();
  const result = await window.hasher.hashFile(file, {onProgress: (p) => phases.add(p.phase)});
  return {...result, phases: [...phases]};
}"""


@pytest.mark.slow  # the browser hasher at scale, as the parity corpus
def test_a_2_gb_video_is_streamed_not_loaded_whole(tmp_path, page):
    video = tmp_path / "long-video.mp4"
    with open(video, "wb") as f:
        f.write(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + os.urandom(1 << 20))
        f.truncate(2 << 30)  # 2 GiB, sparse: quick to make, still 2 GiB to read
    result, grown = hashed_watching_memory(page, tmp_path / "site", video, MD5_INPUT_JS)
    print(f"\n2 GiB video: Chromium memory grew by {grown:.0f} MiB at most while hashing")
    assert result["kind"] == "video" and result["md5"] == md5_of(video)
    assert result["pdq"] is None and result["phases"] == ["md5"]
    assert grown < 400, f"Chromium grew by {grown:.0f} MiB while hashing a 2 GiB file"
