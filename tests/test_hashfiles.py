"""`manage.py hashfiles` — the Python reference hasher's CLI contract and decoding rules."""

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import imagehash
import numpy
import pdqhash
import pytest
from django.core.management import call_command
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"path", "kind", "md5", "pdq", "pdq_quality", "phash"}


def photo(width=160, height=120, seed=0):
    """A smooth, asymmetric test picture (gradients plus a few blobs), RGB uint8."""
    rng = numpy.random.default_rng(seed)
    y, x = numpy.mgrid[0:height, 0:width]
    img = numpy.stack([x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height)], axis=-1)
    for _ in range(6):
        cx, cy, r = rng.integers(0, width), rng.integers(0, height), rng.integers(5, 30)
        img[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = rng.integers(0, 255, 3)
    return img.astype(numpy.uint8)


def expected(pixels):
    """Hashes computed straight from RGB pixels with the reference packages."""
    bits, quality = pdqhash.compute(pixels)
    return {
        "pdq": f"{int(''.join(str(int(b)) for b in bits), 2):064x}",
        "pdq_quality": int(quality),
        "phash": str(imagehash.phash(Image.fromarray(pixels, "RGB"))),
    }


def run(*paths):
    out = io.StringIO()
    status = 0
    try:
        call_command("hashfiles", *map(str, paths), stdout=out)
    except SystemExit as exc:
        status = exc.code
    return [json.loads(line) for line in out.getvalue().splitlines()], status


def md5(path):
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def test_image_line_has_every_field(tmp_path):
    pixels = photo()
    path = tmp_path / "a.png"
    Image.fromarray(pixels).save(path)
    (line,), status = run(path)
    assert status == 0
    assert set(line) == KEYS
    assert line == {"path": str(path), "kind": "image", "md5": md5(path), **expected(pixels)}


def test_orientation_is_applied_as_exif_transpose(tmp_path):
    pixels = photo(200, 100, seed=1)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = tmp_path / "rotated.png"
    Image.fromarray(pixels).save(path, exif=exif)
    (line,), _ = run(path)
    upright = numpy.ascontiguousarray(numpy.rot90(pixels, k=-1))
    assert line["pdq"] == expected(upright)["pdq"] and line["phash"] == expected(upright)["phash"]
    assert line["pdq"] != expected(pixels)["pdq"]


def test_sixteen_bit_grey_keeps_the_high_byte(tmp_path):
    grey16 = (photo(120, 90, seed=2)[:, :, 0].astype(numpy.uint16) * 257 + 100).astype(numpy.uint16)
    path = tmp_path / "grey16.png"
    Image.fromarray(grey16).save(path)
    assert Image.open(path).mode.startswith("I")
    (line,), _ = run(path)
    high = (grey16 >> 8).astype(numpy.uint8)
    assert line["pdq"] == expected(numpy.stack([high] * 3, axis=-1))["pdq"]


def test_transparency_is_composited_onto_white(tmp_path):
    pixels = photo(128, 128, seed=3)
    alpha = numpy.where(numpy.indices((128, 128)).sum(axis=0) % 40 < 20, 255, 0).astype(numpy.uint8)
    path = tmp_path / "alpha.png"
    Image.fromarray(numpy.dstack([pixels, alpha]), "RGBA").save(path)
    (line,), _ = run(path)
    on_white = numpy.where(alpha[..., None] == 255, pixels, 255).astype(numpy.uint8)
    assert line["pdq"] == expected(on_white)["pdq"] and line["phash"] == expected(on_white)["phash"]


def test_palette_transparency_and_first_frame(tmp_path):
    frames = [Image.fromarray(photo(64, 64, seed=s)).convert("P") for s in (4, 5)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    (line,), _ = run(path)
    first = numpy.asarray(Image.open(path).convert("RGB"))
    assert line["kind"] == "image" and line["pdq"] == expected(first)["pdq"]


def test_undecodable_videos_and_other_files_get_md5_only(tmp_path):
    video = tmp_path / "clip.bin"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(1000))
    text = tmp_path / "notes.jpg"  # the name says JPEG; the bytes say otherwise, and the bytes win
    text.write_bytes(b"just some text")
    lines, status = run(video, text)
    assert status == 0
    reason = lines[0].pop("vpdq_error")
    assert lines[0] == {"path": str(video), "kind": "video", "md5": md5(video),
                        "pdq": None, "pdq_quality": None, "phash": None, "vpdq": None, "frames": None}
    assert reason.startswith("no vPDQ: it could not be opened as a video")
    assert lines[1]["kind"] == "file" and lines[1]["md5"] == md5(text) and "vpdq" not in lines[1]


def test_tiny_image_has_zero_pdq(tmp_path):
    path = tmp_path / "tiny.png"
    Image.fromarray(photo(4, 4)).save(path)
    (line,), _ = run(path)
    assert line["pdq"] == "0" * 64 and line["pdq_quality"] == 0


def test_failures_are_reported_per_file_and_exit_1(tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(photo()).save(good)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 200)
    result = subprocess.run(
        [sys.executable, "manage.py", "hashfiles", good, broken, tmp_path / "missing.png", tmp_path],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["kind"] == "image"
    assert set(lines[1]) == {"path", "error"} and "cannot be read" in lines[1]["error"]
    assert "no such file" in lines[2]["error"]
    assert "folder" in lines[3]["error"]


@pytest.mark.parametrize("name", ["ok.png"])
def test_all_good_exits_0(tmp_path, name):
    path = tmp_path / name
    Image.fromarray(photo()).save(path)
    result = subprocess.run([sys.executable, "manage.py", "hashfiles", str(path)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and json.loads(result.stdout)["kind"] == "image"


def test_runs_from_a_bare_checkout_without_environment_or_database(tmp_path):
    """No SECRET_KEY, DEBUG, DATABASE_URL or CACHE_URL: it still hashes, and starts no embedded PostgreSQL."""
    path = tmp_path / "photo.png"
    Image.fromarray(photo()).save(path)
    data_dir = tmp_path / "data"
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "DATA_DIR": str(data_dir)}
    result = subprocess.run([sys.executable, "manage.py", "hashfiles", str(path)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pdq"] == expected(photo())["pdq"]
    assert not data_dir.exists()  # no embedded database, no broker folders


def png_header(width, height):
    """The start of a PNG claiming this size: enough for Image.open, nothing to decode."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def test_pixel_limit_is_one_number_in_reference_browser_and_docs(tmp_path):
    import re

    from hashing.reference import MAX_PIXELS, CannotHash, hash_file

    worker = (ROOT / "hashing/static/hashing/worker.js").read_text()
    assert int(re.search(r"const MAX_PIXELS = (\d+);", worker).group(1)) == MAX_PIXELS
    assert f"**{MAX_PIXELS:,} pixels**" in (ROOT / "docs/hashing.md").read_text()
    assert MAX_PIXELS == 2 * Image.MAX_IMAGE_PIXELS  # Pillow's own refusal starts just above it

    over = tmp_path / "over.png"
    over.write_bytes(png_header(1, MAX_PIXELS + 1))
    with pytest.raises(CannotHash, match="too large to hash"):
        hash_file(over)
    at_limit = tmp_path / "at_limit.png"
    at_limit.write_bytes(png_header(2, MAX_PIXELS // 2))  # allowed: fails later, on its missing pixel data
    with pytest.raises(CannotHash) as refused:
        hash_file(at_limit)
    assert "too large" not in str(refused.value)
