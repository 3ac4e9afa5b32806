"""Short test videos made with FFmpeg (Debian's `ffmpeg`, installed by `make system-packages` and .ci/run).

Sources: "photos" pans across a strip of scikit-image's bundled photographs (real pictures, no download);
"photo:NAME" pans within one of them (different names give unrelated videos); "motion" is FFmpeg's
synthetic Mandelbrot zoom. The same arguments give the same pixels on every machine with the same FFmpeg.

make_video(path, seconds=3, fps="30000/1001", size=(320, 240), codec="h264", container="mp4", source="photos")
copy_video(original, path, bitrate="150k" | scale=0.5 | trim=0.1, ...): the copies a person re-sharing would make.
"""

import functools
import shutil
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy
from PIL import Image
from skimage import data

FFMPEG = "ffmpeg"
PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "retina", "cat", "camera", "brick"]
MOTION_SOURCES = ("photos", "motion")

# Encoder and its options per codec: quick settings, the decoders do not care.
ENCODERS = {
    "h264": ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"],
    "hevc": ["-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-tag:v", "hvc1",
             "-x265-params", "log-level=error"],
    "vp8": ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-pix_fmt", "yuv420p"],
    "vp9": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1", "-pix_fmt", "yuv420p"],
    "av1": ["-c:v", "libaom-av1", "-usage", "realtime", "-cpu-used", "8", "-row-mt", "1", "-pix_fmt", "yuv420p"],
}
DEFAULT_BITRATE = {"h264": None, "hevc": None, "vp8": "1M", "vp9": "1M", "av1": "600k"}
CONTAINERS = {"mp4": "mp4", "mov": "mov", "webm": "webm", "mkv": "matroska"}
EVEN_ONLY = {"h264", "hevc"}  # 4:2:0 in these encoders needs even sides


def have_ffmpeg():
    return shutil.which(FFMPEG) is not None


def run(args):
    done = subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
                          capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(f"ffmpeg failed: {done.stderr.strip()[-2000:]}")


@functools.cache
def _mosaic(height, name=None):
    """A PNG strip of photographs, each scaled to `height` (one photo, doubled in width, for "photo:NAME")."""
    names = [name] if name else PHOTOS
    tiles = []
    for photo in names:
        pixels = getattr(data, photo)()
        pixels = numpy.stack([pixels] * 3, axis=-1) if pixels.ndim == 2 else pixels[..., :3]
        img = Image.fromarray(pixels)
        width = round(img.width * height / img.height) * (2 if name else 1)
        tiles.append(img.resize((width, height), Image.Resampling.BICUBIC))
    strip = Image.new("RGB", (sum(t.width for t in tiles), height))
    x = 0
    for tile in tiles:
        strip.paste(tile, (x, 0))
        x += tile.width
    path = Path(tempfile.mkdtemp(prefix="videos-")) / "mosaic.bmp"  # BMP: -loop 1 decodes it again for every frame
    strip.save(path)
    return path


def _fraction(fps):
    return Fraction(fps) if not isinstance(fps, float) else Fraction(fps).limit_denominator(1001)


def _input(source, seconds, rate, size):
    """FFmpeg input arguments and the filter that makes the picture, for a source."""
    width, height = size
    if source == "motion":
        return (["-f", "lavfi", "-i", f"mandelbrot=size={width}x{height}:rate={rate}:end_scale=0.001"],
                "null")
    if source == "photos" or source.startswith("photo:"):
        name = source.partition(":")[2] or None
        if name is not None and name not in PHOTOS:
            raise ValueError(f"unknown photo {name!r}; one of {PHOTOS}")
        strip_height = max(512, height * 5 // 4)
        path = _mosaic(strip_height, name)
        crop_h = strip_height * 4 // 5
        crop_w = crop_h * width // height
        # The window pans along the strip at a window's width a minute (and back), bobbing slowly up and down:
        # a camera's pace, so a copy trimmed by a fraction of a second still shows nearly the same pictures.
        crop = (f"crop=w='min(iw,{crop_w})':h={crop_h}:x='(iw-ow)*(1-cos(t*ow/60/(iw-ow+1)*PI))/2':"
                f"y='(ih-oh)/2*(1-cos(t*0.1))'")
        # The strip is decoded once and repeated by the loop filter (-loop 1 would decode it again every frame).
        return (["-i", str(path)], f"loop=loop=-1:size=1:start=0,setpts=N/({rate.numerator}/{rate.denominator})/TB,"
                                   f"{crop},scale={width}:{height}:flags=bicubic")
    raise ValueError(f"unknown source {source!r}")


def make_video(path, *, seconds=3, fps="30000/1001", size=(320, 240), codec="h264", container="mp4",
               source="photos", variable=False, rotate=None, bitrate=None):
    """Write a video to `path` and return it. fps is a number or a fraction string ("30000/1001" for 29.97);
    variable=True makes the frame intervals uneven (every third frame lasts half as long again, so the video runs
    a sixth longer than `seconds`); rotate (90, 180,
    270) sets the container's display rotation, leaving the coded frames as they are."""
    path = Path(path)
    width, height = size
    if codec in EVEN_ONLY and (width % 2 or height % 2):
        raise ValueError(f"{codec} needs even sides; use vp8, vp9 or av1 for odd sizes")
    rate = _fraction(fps)
    inputs, picture = _input(source, seconds, rate, size)
    filters = [picture] if picture != "null" else []
    timing = ["-r", str(rate)]
    if variable:
        filters.append(f"setpts='(N+0.5*floor(N/3))/({rate.numerator}/{rate.denominator})/TB'")
        timing = ["-fps_mode", "passthrough"]
    args = [*inputs]
    if filters:
        args += ["-vf", ",".join(filters)]
    args += ["-frames:v", str(round(seconds * rate)), *timing, *ENCODERS[codec]]
    chosen = bitrate or DEFAULT_BITRATE[codec]
    if chosen:
        args += ["-b:v", chosen]
    if rotate:
        args += ["-metadata:s:v:0", f"rotate={rotate}"]
    args += ["-an", "-f", CONTAINERS[container], str(path)]
    run(args)
    return path


def copy_video(original, path, *, bitrate=None, scale=None, trim=None, codec="h264", container="mp4"):
    """A re-encoded copy of `original`: at another bitrate, scaled (0.5: half each side, kept even), or with
    the first `trim` share of its length cut off."""
    args = []
    if trim:
        args += ["-ss", f"{duration(original) * trim:.3f}"]
    args += ["-i", str(original)]
    if scale:
        args += ["-vf", f"scale=trunc(iw*{scale}/2)*2:trunc(ih*{scale}/2)*2:flags=bicubic"]
    args += ENCODERS[codec]
    chosen = bitrate or DEFAULT_BITRATE[codec]
    if chosen:
        args += ["-b:v", chosen]
    args += ["-an", "-f", CONTAINERS[container], str(path)]
    run(args)
    return Path(path)


def duration(path):
    import av  # PyAV reads the container's own duration
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        return container.duration / 1_000_000
