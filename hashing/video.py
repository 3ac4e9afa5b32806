"""vPDQ, the video fingerprint of Meta's ThreatExchange (vpdq/), computed as its `vpdq` package computes it.

The rule (docs/hashing.md, "Videos: vPDQ"; the browser's worker follows the same one):
1. the first video stream is decoded in order; frame n (from 0, counted as the decoder outputs them) is hashed when
   n % max(1, int(SECONDS_PER_HASH * fps)) == 0, where fps is the stream's average frame rate, or its base rate
   when that is 0;
2. a hashed frame is converted to RGB24 at the stream's size (no rotation: display metadata is ignored) by
   swscale with the vpdq package's settings: area filter, BT.601 coefficients whatever the stream's tags say,
   limited range unless the decoder's pixel format is a full-range ("J") one;
3. each is hashed with PDQ (quality 0-100); a frame under 5 px on a side cannot be hashed, nor can the video;
4. its timestamp is n / fps in single precision, as the C++ computes it.

The signal exchanged (python-threatexchange's VPDQSignal) is a JSON array of "pdqHex,quality,timestamp" strings
with the timestamp formatted as Python's f"{t:.3}" (three significant digits), exactly as vpdq_to_json writes it.
"""

import math

import av  # PyAV: FFmpeg's libraries in its wheel
import numpy
from av.video.reformatter import ColorRange, Colorspace, Interpolation

from hashing.reference import pdq_of
from hashing.signal_types import VPDQ_MAX_FRAMES as MAX_FRAMES
from hashing.signal_types import VpdqFrame, vpdq_signal

__all__ = ["CannotDecode", "VpdqFrame", "vpdq_frames", "vpdq_signal", "video_fields", "MAX_FRAMES"]

SECONDS_PER_HASH = 1
MIN_SIDE = 5  # vpdq's MIN_HASHABLE_DIM
# MAX_FRAMES (signal_types.VPDQ_MAX_FRAMES): a video with more frames to hash keeps its MD5 only, as the server
# refuses a longer vPDQ; the browser's worker stops at the same count.
QUALITY_THRESHOLD = 50  # python-threatexchange's VPDQ_QUALITY_THRESHOLD: frames below it are not compared


class CannotDecode(Exception):
    """A video we cannot fingerprint by its frames (it keeps its MD5). The message is for a person."""


def frame_rate(stream):
    """The stream's average frame rate, else its base rate (vpdq's FFmpegVideo), as a float; None when unknown."""
    for rate in (stream.average_rate, stream.base_rate):
        if rate and rate.numerator and rate.denominator:
            return rate.numerator / rate.denominator
    return None


def frame_step(fps):
    """Every step-th frame is hashed (vpdq's m_frameMod)."""
    return max(1, int(SECONDS_PER_HASH * fps))


def timestamp(n, fps):
    """n / fps as the C++ computes it (float / float), widened to a Python float as its binding does."""
    return float(numpy.float32(n) / numpy.float32(fps))


def _full_range(frame):
    """swscale's view in the vpdq package (sws_getContext, no colour details set): full range for the decoder's
    "J" pixel formats only; a yuv420p frame tagged full range (VP9 can be) is still read as limited."""
    return frame.format.name.startswith("yuvj")


def to_rgb(frame, width, height):
    """The frame as an RGB24 array of the stream's size, with the vpdq package's swscale settings."""
    rgb = frame.reformat(width=width, height=height, format="rgb24", interpolation=Interpolation.AREA,
                         src_colorspace=Colorspace.DEFAULT, dst_colorspace=Colorspace.DEFAULT,
                         src_color_range=ColorRange.JPEG if _full_range(frame) else ColorRange.MPEG,
                         dst_color_range=ColorRange.JPEG)
    return rgb.to_ndarray()


def vpdq_frames(path, *, on_progress=None):
    """The vPDQ of the video at `path`: its hashed frames in order. Raises CannotDecode with a reason."""
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise CannotDecode(f"it could not be opened as a video ({_reason(exc)})") from None
    with container:
        if not container.streams.video:
            raise CannotDecode("it has no video stream")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if not width or not height:
            raise CannotDecode("its frame size is not stated")
        if width < MIN_SIDE or height < MIN_SIDE:
            raise CannotDecode(f"its frames are smaller than {MIN_SIDE} pixels on a side")
        fps = frame_rate(stream)
        if not fps:
            raise CannotDecode("its frame rate is not stated")
        step = frame_step(fps)
        expected = math.ceil(stream.frames / step) if stream.frames else None
        stream.thread_type = "AUTO"  # decoder threads change the speed, never the frames or their order
        frames = []
        n = 0
        try:
            for packet in container.demux(stream):
                for decoded in packet.decode():
                    if n % step == 0:
                        if len(frames) == MAX_FRAMES:
                            raise CannotDecode(f"it is longer than the {MAX_FRAMES:,} frames we fingerprint "
                                               f"(about {MAX_FRAMES * SECONDS_PER_HASH // 3600} hours of video)")
                        pdq, quality = pdq_of(to_rgb(decoded, width, height))
                        frames.append(VpdqFrame(pdq, quality, timestamp(n, fps)))
                        if on_progress:
                            on_progress(len(frames), expected)
                    n += 1
        except av.FFmpegError as exc:
            raise CannotDecode(f"its frames could not be decoded ({_reason(exc)})") from None
    if not frames:
        raise CannotDecode("it has no frames that can be decoded")
    return frames


def _reason(exc):
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def video_fields(path):
    """What `manage.py hashfiles` adds to a video's record: {"vpdq", "frames"}, or, for a video we cannot decode,
    nulls and "vpdq_error" (the reason; the video keeps its MD5)."""
    try:
        frames = vpdq_frames(path)
    except CannotDecode as exc:
        return {"vpdq": None, "frames": None, "vpdq_error": f"no vPDQ: {exc}"}
    return {"vpdq": vpdq_signal(frames), "frames": len(frames)}
