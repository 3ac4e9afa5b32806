"""A partner running python-threatexchange (its vpdq extension, with Meta's `vpdq` package) matches a re-encoded
copy of a caller's video against the vPDQ it received from the native feed, as HMA would."""

import json

import pytest
import requests
from django.urls import reverse
from threatexchange.extensions.vpdq.vpdq import VPDQSignal

from hashing import signal_types, video
from hashing.reference import md5_of
from partners import onboarding
from tests.calls import issue_code, open_case, submit
from tests.helpers import ACTOR, live_partner
from tests.videos import copy_video, make_video

pytestmark = pytest.mark.slow


def test_a_partner_matches_a_reencoded_copy_against_the_vpdq_from_the_feed(live_server, transactional_db,
                                                                         caseworker, tmp_path):
    original = make_video(tmp_path / "original.mp4", seconds=8, fps="30000/1001", size=(480, 360))
    unrelated = make_video(tmp_path / "unrelated.mp4", seconds=8, fps=25, size=(480, 360), source="photo:rocket")
    # On the caller's device: MD5 and vPDQ of the video (the Python reference stands in for the browser, whose
    # parity with it the browser's own test proves); only these leave.
    item = {"kind": "video", "md5": md5_of(original),
            "vpdq": signal_types.vpdq_signal(video.vpdq_frames(original))}
    case = open_case(caseworker)
    sent = submit(issue_code(case, caseworker), [item])
    assert sent.status_code == 200, sent.content

    # The partner: its key, the native feed over HTTP.
    key, secret = onboarding.issue_key(live_partner(), scopes=["fetch", "feedback"], **ACTOR)
    headers = {"Authorization": f"Bearer {key.public_id}.{secret}"}
    feed = requests.get(live_server.url + reverse("api:hashes"), headers=headers, timeout=30).json()
    (received,) = [r["value"] for r in feed["records"] if r["signal_type"] == VPDQSignal.get_name()]
    assert VPDQSignal.validate_signal_str(received) == received

    # Copies someone re-shares: another codec and bitrate, half the size; and an unrelated video.
    copies = [copy_video(original, tmp_path / "lower.webm", bitrate="200k", codec="vp9", container="webm"),
              copy_video(original, tmp_path / "half.mp4", scale=0.5)]
    index = VPDQSignal.get_index_cls().build([(received, "helpline")])
    for copy in copies:
        found = VPDQSignal.hash_from_file(copy)  # the partner's own hashing: Meta's vpdq package
        assert VPDQSignal.compare_hash(found, received).match, copy.name
        assert [m.metadata for m in index.query(found)] == ["helpline"], copy.name
    stranger = VPDQSignal.hash_from_file(unrelated)
    assert not VPDQSignal.compare_hash(stranger, received).match and index.query(stranger) == []

    # It reports what it did, naming the hash by the text it received.
    reported = requests.post(
        live_server.url + reverse("api:feedback"), headers={**headers, "Content-Type": "application/json"},
        data=json.dumps({"feedback": [{"signal_type": "vpdq", "value": received, "outcome": "Blocked"}]}),
        timeout=30)
    assert reported.json() == {"recorded": 1, "duplicates": 0}
