"""Signal types validate, normalise and compare hashes with messages a partner's engineer can act on."""

import pytest

from hashing import signal_types
from hashing.signal_types import MD5, PDQ, PHASH, InvalidSignal

PDQ_A = "f" * 64
PDQ_B = "0" * 64


def test_normalise_accepts_case_and_prefix():
    assert PDQ.normalise("  0X" + "AB" * 32 + " ") == "ab" * 32
    assert MD5.normalise("D41D8CD98F00B204E9800998ECF8427E") == "d41d8cd98f00b204e9800998ecf8427e"
    assert PHASH.normalise("ba8c84536bd3c366") == "ba8c84536bd3c366"


@pytest.mark.parametrize(("kind", "value", "message"), [
    (PDQ, "abc", "must be 64 hex characters; got 3"),
    (PDQ, "g" * 64, "only the hex digits"),
    (MD5, "d41d8cd98f00b204e9800998ecf8427", "must be 32 hex characters; got 31"),
    (PHASH, 1234, "must be a string"),
])
def test_invalid_values_say_why(kind, value, message):
    with pytest.raises(InvalidSignal, match=message):
        kind.normalise(value)


def test_hamming_distance_and_match_threshold():
    assert PDQ.distance(PDQ_A, PDQ_B) == 256
    near = "0" * 56 + "7fffffff"  # 31 bits set
    far = "0" * 56 + "ffffffff"  # 32 bits set
    assert PDQ.matches(PDQ_B, near) and not PDQ.matches(PDQ_B, far)
    assert MD5.matches("a" * 32, "A" * 32) and not MD5.matches("a" * 32, "b" + "a" * 31)


def test_stopncii_names():
    assert signal_types.from_stopncii("ImagePDQ") is PDQ
    assert signal_types.from_stopncii("StopNCIISignalType.VideoMD5") is MD5
    with pytest.raises(InvalidSignal, match="expected one of ImagePDQ, VideoMD5"):
        signal_types.from_stopncii("ImagePHash")
    assert PHASH.stopncii_name is None


def test_quality():
    assert signal_types.check_quality(50) == 50
    for bad in (-1, 101, 50.5, True, "80"):
        with pytest.raises(InvalidSignal):
            signal_types.check_quality(bad)
    assert signal_types.is_low_quality(49) and not signal_types.is_low_quality(50) and signal_types.is_low_quality(None)


@pytest.mark.parametrize("code", [{}, [], None, 5, "PDQ "])
def test_a_signal_type_that_is_not_a_name_is_refused_plainly(code):
    with pytest.raises(InvalidSignal, match="Unknown signal type"):
        signal_types.get(code)
