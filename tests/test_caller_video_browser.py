"""A caller sends a real video from their phone: its vPDQ is made on the device (the Python reference's, byte for
byte), reaches the bank beside its MD5, and no request carries the video's bytes or its name; a video this
browser cannot decode (HEVC here) is said plainly and sent as its MD5 only."""

import hashlib

import pytest
from playwright.sync_api import expect

from cases.models import Item
from hashing import video as python_vpdq  # the Python reference (hashing/video.py)
from tests.calls import issue_code, open_case
from tests.conftest import make_staff
from tests.helpers import PHONE, carries_file_bytes
from tests.videos import make_video

pytestmark = pytest.mark.browser


def test_a_callers_video_is_fingerprinted_on_the_phone_and_only_hashes_leave(browser, live_server,
                                                                             transactional_db, tmp_path):
    clip = make_video(tmp_path / "us at the lake private.webm", seconds=4, fps=30, size=(320, 240), codec="vp9",
                      container="webm")
    iphone = make_video(tmp_path / "IMG_0420 private.mp4", seconds=1, fps=30, size=(320, 240), codec="hevc")
    files = {path: path.read_bytes() for path in (clip, iphone)}
    caseworker = make_staff("casey@helpline.test", "caseworker")
    case = open_case(caseworker)
    code = issue_code(case, caseworker)

    context = browser.new_context(**PHONE)
    requests = []
    context.on("request", lambda request: requests.append(request))
    page = context.new_page()
    page.goto(live_server.url + f"/h/{code}/")
    for box in page.locator("input[name=consent]").all():
        box.check()
    page.locator("#files").set_input_files([str(clip), str(iphone)])
    page.wait_for_selector("body[data-state=ready]", timeout=60_000)
    expect(page.locator("#file-list li", has_text=clip.name).locator(".file-note")).to_have_text("Video: Ready")
    hevc_note = page.locator("#file-list li", has_text=iphone.name).locator(".file-note")
    expect(hevc_note).to_have_text("Video: This browser cannot decode this video (HEVC (H.265)), so only its exact "
                                   "fingerprint (MD5) was made. Another browser, or a copy saved as H.264 MP4, may "
                                   "allow a full fingerprint.")
    expect(hevc_note).to_have_class("file-note warn")
    page.get_by_role("button", name="Send fingerprints").click()
    page.wait_for_selector("body[data-state=done]", timeout=30_000)

    fingerprinted = case.items.get(md5=hashlib.md5(files[clip]).hexdigest())
    want = python_vpdq.vpdq_signal(python_vpdq.vpdq_frames(clip))
    assert fingerprinted.kind == Item.Kind.VIDEO and fingerprinted.frames == 4
    assert fingerprinted.bank_hashes.get(signal_type="vpdq").full_value == want
    md5_only = case.items.get(md5=hashlib.md5(files[iphone]).hexdigest())
    assert md5_only.frames is None and list(md5_only.bank_hashes.values_list("signal_type", flat=True)) == ["md5"]

    assert any(request.method == "POST" for request in requests), "the recorder saw no submission"
    for request in requests:
        body = request.post_data_buffer or b""
        text = " ".join([request.url, str(request.headers), body.decode("latin-1")])
        for path, contents in files.items():
            assert path.name not in text and path.stem not in text, f"{request.url} carries a file name"
            assert not carries_file_bytes(body, contents), f"{request.url} carries bytes of {path.name}"
    context.close()
