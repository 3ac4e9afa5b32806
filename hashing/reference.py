"""The Python reference hasher: the hashes partners compute, from the decoding rules in docs/hashing.md.

Decoding rules (the browser hasher follows the same ones):
1. orientation exactly as Pillow's ImageOps.exif_transpose applies it (EXIF, or XMP tiff:Orientation);
2. 16-bit samples become 8-bit by keeping the high byte (v >> 8);
3. transparency (alpha, palette or tRNS key) composited onto opaque white as Image.alpha_composite does;
4. then RGB, no colour-space conversion; animated images: the first frame.
"""

import hashlib
import warnings

import imagehash
import numpy
import pdqhash
from PIL import ExifTags, Image, UnidentifiedImageError

from hashing.sniff import sniff_kind

CHUNK = 1 << 20
# The largest image hashed, in pixels: Pillow's decompression-bomb limit (2 × its default MAX_IMAGE_PIXELS),
# which Image.open enforces, and the browser hasher's MAX_PIXELS (worker.js); docs/hashing.md states it.
MAX_PIXELS = 178_956_970


class CannotHash(Exception):
    """A file we cannot hash; the message is for a person."""


def md5_of(path):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def to_8bit(img):
    """16-bit greyscale as the high byte of each sample. (Pillow already does this for 16-bit colour.)"""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        samples = numpy.asarray(img).astype(numpy.uint32)
        transparent = None
        key = img.info.get("transparency")
        if isinstance(key, int):
            transparent = samples == key
        # min(): a 32-bit "I" image (rare; 16-bit PNGs open as "I;16") must not wrap around.
        grey = Image.fromarray(numpy.minimum(samples >> 8, 255).astype(numpy.uint8), "L")
        if transparent is not None:
            alpha = Image.fromarray(numpy.where(transparent, 0, 255).astype(numpy.uint8), "L")
            grey.putalpha(alpha)
        return grey
    return img


# What ImageOps.exif_transpose does for each orientation value.
TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def orientation_of(img):
    """The orientation exif_transpose would apply: EXIF 0x0112, else XMP tiff:Orientation (Pillow's getexif
    reads both). Metadata Pillow cannot parse means no rotation, as in the browser."""
    try:
        img.load()  # a PNG may carry eXIf after the image data
        return int(img.getexif().get(ExifTags.Base.Orientation, 1))
    except Exception:  # malformed EXIF/XMP of any kind: Pillow raises assorted errors
        return 1


def upright(img):
    """exif_transpose's pixels without its metadata rewrite, which raises on some unusual EXIF value types
    after the rotation has already been decided."""
    method = TRANSPOSE.get(orientation_of(img))
    return img.transpose(method) if method is not None else img


def has_transparency(img):
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info


def decode(img):
    """Apply the decoding rules to an opened image; returns an RGB image."""
    img.seek(0)
    img = upright(img)
    img = to_8bit(img)
    if has_transparency(img):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return img.convert("RGB")


def pdq_of(rgb):
    """PDQ as 64 hex chars in the ThreatExchange bit order, and its quality, via the pdqhash package."""
    bits, quality = pdqhash.compute(numpy.asarray(rgb))
    return f"{int(''.join(str(int(b)) for b in bits), 2):064x}", int(quality)


def phash_of(rgb):
    return str(imagehash.phash(rgb))


def hash_pixels(rgb):
    pdq, quality = pdq_of(rgb)
    return {"pdq": pdq, "pdq_quality": quality, "phash": phash_of(rgb)}


def open_image(path):
    try:
        with warnings.catch_warnings():
            # Between half the limit and the limit Pillow only warns; we hash those, as the browser does.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path)
    except UnidentifiedImageError:
        return None
    except Image.DecompressionBombError:
        img = None
    if img is None or img.width * img.height > MAX_PIXELS:
        raise CannotHash(f"the image is too large to hash (more than {MAX_PIXELS:,} pixels)")
    return img


def hash_file(path):
    """The CLI's record for one file: {kind, md5, pdq, pdq_quality, phash}. Raises CannotHash."""
    try:
        md5 = md5_of(path)
    except IsADirectoryError:
        raise CannotHash("it is a folder, not a file")
    except FileNotFoundError:
        raise CannotHash("no such file")
    except PermissionError:
        raise CannotHash("permission denied")
    except OSError as exc:
        raise CannotHash(f"cannot read it ({exc.strerror or exc})")
    record = {"kind": "file", "md5": md5, "pdq": None, "pdq_quality": None, "phash": None}
    with open(path, "rb") as f:
        head = f.read(1024)  # as much as worker.js reads to sniff
    sniffed = sniff_kind(head)
    if sniffed == "video":
        record["kind"] = "video"
        return record
    try:
        img = open_image(path)
        if img is None:
            if sniffed == "image":
                raise CannotHash("it looks like an image but its format cannot be read")
            return record
        with img:
            rgb = decode(img)
    except CannotHash:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise CannotHash(f"the image could not be decoded ({exc})")
    record["kind"] = "image"
    record.update(hash_pixels(rgb))
    return record

