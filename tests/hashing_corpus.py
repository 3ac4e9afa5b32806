"""Builds the hasher parity corpus: more than 200 images in the classes the browser must get right.

Photographs come from scikit-image's bundled data (no download); everything else is derived from them, so
the corpus is the same on every machine. Each entry is (file name, class).

The Python reference's hashes of it take a minute to compute; ReferenceHashes keeps them between runs.
"""

import hashlib
import json
import os
import struct
import zlib
from importlib import metadata
from pathlib import Path

import numpy
from PIL import Image
from skimage import data

# Change it whenever build() changes what it writes (the cache below is keyed by it).
CORPUS_VERSION = 1
CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache" / "hasher-parity"  # git-ignored

COLOUR = ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
          "colorwheel", "cat"]
GREY = ["camera", "moon", "coins", "page", "text", "clock", "brick", "grass", "gravel", "cell", "microaneurysms"]


def photos():
    for name in COLOUR:
        yield name, getattr(data, name)()
    for name in GREY:
        yield name, getattr(data, name)()


def rgb(pixels):
    return numpy.stack([pixels] * 3, axis=-1) if pixels.ndim == 2 else pixels[..., :3]


def scaled(pixels, width, height):
    return numpy.asarray(Image.fromarray(rgb(pixels)).resize((width, height), Image.Resampling.BICUBIC))


def exif_with_orientation(value):
    exif = Image.Exif()
    exif[0x0112] = value
    return exif


def png16(path, samples):
    """Write a 16-bit PNG (grey or RGB) directly; Pillow cannot write 16-bit colour."""
    height, width = samples.shape[:2]
    colour_type = 2 if samples.ndim == 3 else 0
    raw = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in samples)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6))
                           + chunk(b"IEND", b""))


def build(directory):
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    entries = []

    def add(cls, stem, image, ext, **save):
        name = f"{cls}-{len(entries):03d}-{stem}.{ext}"
        image.save(directory / name, **save)
        entries.append((name, cls))

    all_photos = list(photos())
    colour = [(n, p) for n, p in all_photos if p.ndim == 3]
    grey = [(n, p) for n, p in all_photos if p.ndim == 2]

    # Photographs as they are, high-quality JPEG.
    for name, pixels in all_photos:
        add("photo", name, Image.fromarray(rgb(pixels)), "jpg", quality=92)
    # Photographs upscaled to a few megapixels, as phones take them.
    for i, (name, pixels) in enumerate(all_photos[:16]):
        w, h = (1600 + 64 * i, 1200 + 48 * i) if i % 3 else (1200 + 48 * i, 1600 + 64 * i)
        add("photo", f"{name}-{w}x{h}", Image.fromarray(scaled(pixels, w, h)), "jpg", quality=88,
            progressive=bool(i % 2))
    # JPEG baseline / progressive, 4:2:0 / 4:4:4, at several sizes and qualities.
    for i, (name, pixels) in enumerate(colour + grey[:3]):
        w, h = 200 + 97 * i, 150 + 61 * i
        image = Image.fromarray(scaled(pixels, w, h))
        add("jpeg-baseline", name, image, "jpg", quality=70 + 3 * (i % 8), progressive=False)
        add("jpeg-progressive", name, image, "jpg", quality=75 + 2 * (i % 10), progressive=True)
        add("jpeg-420", name, image, "jpg", quality=85, subsampling=2)
        add("jpeg-444", name, image, "jpg", quality=85, subsampling=0)
    # PNG, 8-bit colour and 16-bit (grey and colour).
    for i, (name, pixels) in enumerate(colour + grey[:2]):
        add("png8", name, Image.fromarray(scaled(pixels, 160 + 41 * i, 120 + 29 * i)), "png")
    for i, (name, pixels) in enumerate(all_photos[:12]):
        base = scaled(pixels, 120 + 37 * i, 90 + 23 * i).astype(numpy.uint16)
        noise = (numpy.arange(base.size).reshape(base.shape) * 7919 % 256).astype(numpy.uint16)
        samples = base * 256 + noise  # low byte differs from the high byte, so v >> 8 matters
        stem = f"{name}-grey" if i % 2 else f"{name}-rgb"
        name16 = f"png16-{len(entries):03d}-{stem}.png"
        png16(directory / name16, samples[..., 0] if i % 2 else samples)
        entries.append((name16, "png16"))
    # Greyscale JPEG and PNG.
    for i, (name, pixels) in enumerate(grey):
        image = Image.fromarray(pixels if pixels.dtype == numpy.uint8 else (pixels * 255).astype(numpy.uint8))
        add("grey", name, image, "jpg" if i % 2 else "png", **({"quality": 88} if i % 2 else {}))
    # Palette images, some with a transparent index; GIFs with two frames (the first one counts).
    for i, (name, pixels) in enumerate(colour + grey[:3]):
        image = Image.fromarray(scaled(pixels, 150 + 17 * i, 110 + 13 * i)).convert("P", palette=Image.Palette.ADAPTIVE,
                                                                                 colors=64 + 16 * (i % 8))
        if i % 3 == 0:
            add("palette", name, image, "png", transparency=0)
        elif i % 3 == 1:
            add("palette", name, image, "png")
        else:
            other = Image.fromarray(scaled(colour[(i + 1) % len(colour)][1], *image.size)).convert("P")
            add("palette", name, image, "gif", save_all=True, append_images=[other], duration=100, loop=0)
    # Transparency: RGBA and LA PNG, RGBA WebP, with soft and hard edges.
    for i, (name, pixels) in enumerate(colour + grey[:3]):
        w, h = 140 + 23 * i, 100 + 19 * i
        y, x = numpy.mgrid[0:h, 0:w]
        soft = (255 * (x / w)).astype(numpy.uint8)
        hard = numpy.where((x // 16 + y // 16) % 2, 255, 0).astype(numpy.uint8)
        alpha = soft if i % 2 else hard
        body = scaled(pixels, w, h)
        if i % 4 == 3:
            add("alpha", name, Image.fromarray(numpy.dstack([body[..., 0], alpha]), "LA"), "png")
        elif i % 4 == 2:
            add("alpha", name, Image.fromarray(numpy.dstack([body, alpha]), "RGBA"), "webp", lossless=True)
        else:
            add("alpha", name, Image.fromarray(numpy.dstack([body, alpha]), "RGBA"), "png")
    # EXIF orientations 1-8: JPEG, PNG (eXIf) and WebP.
    for orientation in range(1, 9):
        name, pixels = colour[orientation % len(colour)]
        image = Image.fromarray(scaled(pixels, 240 + 8 * orientation, 160))
        exif = exif_with_orientation(orientation)
        add("exif-jpeg", f"{name}-o{orientation}", image, "jpg", quality=90, exif=exif)
        add("exif-png", f"{name}-o{orientation}", image, "png", exif=exif)
        add("exif-webp", f"{name}-o{orientation}", image, "webp", lossless=True, exif=exif)
    for orientation in (5, 7):  # transposing orientations on other photographs, PNG and WebP
        image = Image.fromarray(scaled(grey[orientation][1], 203, 321))
        exif = exif_with_orientation(orientation)
        add("exif-png", f"grey-o{orientation}", image, "png", exif=exif)
        add("exif-webp", f"grey-o{orientation}", image, "webp", lossless=True, exif=exif)
    for orientation in (3, 6):  # progressive JPEGs too
        image = Image.fromarray(scaled(colour[0][1], 321, 203))
        add("exif-jpeg", f"progressive-o{orientation}", image, "jpg", progressive=True,
            exif=exif_with_orientation(orientation))
    # Tiny: from below PDQ's 5-pixel floor to 32 px, odd sizes.
    for w, h in [(1, 1), (4, 4), (5, 5), (5, 7), (6, 5), (7, 7), (8, 13), (13, 8), (16, 9), (31, 17), (32, 32)]:
        add("tiny", f"{w}x{h}", Image.fromarray(scaled(colour[1][1], w, h)), "png")
    # Extreme aspect ratios.
    for w, h in [(5, 2000), (2000, 5), (3000, 7), (9, 2500), (1000, 20), (20, 1500), (4000, 33), (41, 3999),
                 (1234, 12), (64, 4096)]:
        add("aspect", f"{w}x{h}", Image.fromarray(scaled(colour[w % len(colour)][1], w, h)),
            "jpg" if (w + h) % 2 else "png", **({"quality": 90} if (w + h) % 2 else {}))
    # Large photographs, up to 24 MP.
    for i, (w, h) in enumerate([(2048, 1536), (2592, 1944), (3000, 2000), (3264, 2448), (2448, 3264),
                                (4000, 3000), (3000, 4000), (4032, 3024), (6000, 4000), (4000, 6000)]):
        name, pixels = colour[i % len(colour)]
        add("large", f"{name}-{w}x{h}", Image.fromarray(scaled(pixels, w, h)), "jpg", quality=90,
            progressive=bool(i % 2))
    # A phone photo held upright: stored landscape, EXIF says rotate (the whole-plane path).
    add("large", "phone-portrait-o6", Image.fromarray(scaled(colour[2][1], 4032, 3024)), "jpg", quality=90,
        exif=exif_with_orientation(6))
    return entries


class ReferenceHashes:
    """The Python reference's hashes of corpus files (and of other large test images), kept in CACHE_DIR between
    runs. The file is named by the corpus version, the reference hasher's code and the versions of the packages it
    hashes with, and each entry by the file's own bytes: a change to any of them means computing afresh, never a
    stale hash."""

    def __init__(self, directory=CACHE_DIR):
        from hashing import reference, sniff

        key = hashlib.sha256(f"corpus {CORPUS_VERSION}".encode())
        for module in (reference, sniff):
            key.update(Path(module.__file__).read_bytes())
        for package in ("pillow", "numpy", "pdqhash", "imagehash"):
            key.update(f"{package} {metadata.version(package)}".encode())
        self.path = Path(directory) / f"reference-v{CORPUS_VERSION}-{key.hexdigest()[:20]}.json"
        self.known = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.computed = 0

    def _get(self, kind, path, compute):
        name = f"{kind}:{hashlib.sha256(Path(path).read_bytes()).hexdigest()}"
        if name not in self.known:
            self.known[name] = compute()
            self.computed += 1
        return self.known[name]

    def hash_file(self, path):
        from hashing import reference

        return self._get("file", path, lambda: reference.hash_file(path))

    def hash_pixels(self, path, rgb):
        """reference.hash_pixels(rgb) for the pixels the reference decodes from the file at path."""
        from hashing import reference

        return self._get("pixels", path, lambda: reference.hash_pixels(rgb))

    def save(self):
        if not self.computed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():  # what another process saved meanwhile (tests on two processes) is kept too
            self.known = {**json.loads(self.path.read_text()), **self.known}
        partial = self.path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(self.known, sort_keys=True))
        partial.replace(self.path)  # whole or not at all, should two runs save at once
        for stale in self.path.parent.glob("reference-*.json"):  # earlier corpora, code or packages
            if stale != self.path:
                stale.unlink(missing_ok=True)
