"""The browser hasher gives the reference packages' hashes: hashFile against the Python reference hasher on
the same files, and hashPixels against pdqhash and imagehash on the same pixels.

Targets (issue 3): PDQ identical on >= 99 % and never more than 2 bits apart; pHash identical on >= 99 %;
MD5 identical on all; hashPixels bit-identical on all.
"""

import os
from collections import Counter, defaultdict

import numpy
import pytest
from PIL import Image

from hashing import reference
from hashing.signal_types import PDQ, PHASH
from tests.browser_hasher import HASH_FILES_JS, HASH_PIXELS_JS, HarnessSite
from tests.hashing_corpus import ReferenceHashes, build

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("hasher-site")
    entries = build(root / "corpus")
    return root, entries


@pytest.fixture(scope="module")
def reference_hashes():
    """The reference's hashes of the corpus, computed once per corpus version and reference code (.cache/)."""
    known = ReferenceHashes()
    yield known
    known.save()


@pytest.fixture(scope="module")
def site(corpus):
    root, _ = corpus
    site = HarnessSite(root)
    yield site
    site.close()


@pytest.fixture
def harness(site, page):
    return site.open(page)


def summary(rows):
    lines = [f"{'class':18} {'n':>4} {'pdq=':>5} {'max':>4} {'quality=':>8} {'phash=':>6} {'md5=':>5}"]
    for cls, stats in sorted(rows.items()):
        lines.append(f"{cls:18} {stats['n']:4} {stats['pdq_same']:5} {stats['pdq_max']:4} {stats['quality_same']:8} "
                     f"{stats['phash_same']:6} {stats['md5_same']:5}")
    return "\n".join(lines)


def test_hash_file_matches_the_python_reference(corpus, harness, reference_hashes):
    root, entries = corpus
    assert len(entries) >= 200
    classes = Counter(cls for _, cls in entries)
    assert min(classes.values()) >= 10, classes

    results = []
    for start in range(0, len(entries), 25):
        batch = entries[start:start + 25]
        results += harness.evaluate(HASH_FILES_JS, [f"/corpus/{name}" for name, _ in batch])

    rows = defaultdict(lambda: Counter(pdq_max=0))
    failures, pdq_same, phash_same, quality_same = [], 0, 0, 0
    for (name, cls), got in zip(entries, results, strict=True):
        want = reference_hashes.hash_file(root / "corpus" / name)
        stats = rows[cls]
        stats["n"] += 1
        if "error" in got:
            failures.append(f"{name}: browser error {got['error']}")
            continue
        stats["md5_same"] += got["md5"] == want["md5"]
        if got["md5"] != want["md5"] or got["kind"] != want["kind"]:
            failures.append(f"{name}: md5/kind {got.get('kind')} {got['md5']} != {want['kind']} {want['md5']}")
        if got.get("pdq") is None:
            failures.append(f"{name}: no PDQ in the browser ({got.get('warning')})")
            continue
        distance = PDQ.distance(got["pdq"], want["pdq"])
        stats["pdq_same"] += distance == 0
        stats["pdq_max"] = max(stats["pdq_max"], distance)
        stats["phash_same"] += got["phash"] == want["phash"]
        stats["quality_same"] += got["pdqQuality"] == want["pdq_quality"]
        quality_same += got["pdqQuality"] == want["pdq_quality"]
        pdq_same += distance == 0
        phash_same += got["phash"] == want["phash"]
        if distance > 2:
            failures.append(f"{name}: PDQ {distance} bits from the reference")
    report = summary(rows)
    print("\nhashFile vs Python reference\n" + report)
    assert not failures, "\n".join(failures) + "\n" + report
    assert pdq_same >= 0.99 * len(entries), report
    assert phash_same >= 0.99 * len(entries), report
    assert quality_same >= 0.99 * len(entries), report


def test_hash_pixels_is_bit_identical_to_the_packages(corpus, harness, reference_hashes):
    root, entries = corpus
    pixel_dir = root / "pixels"
    pixel_dir.mkdir(exist_ok=True)
    mismatches = []
    for index, (name, _) in enumerate(entries):
        with Image.open(root / "corpus" / name) as img:
            rgb = reference.decode(img)
        pixels = numpy.asarray(rgb)
        height, width = pixels.shape[:2]
        rgba = numpy.dstack([pixels, numpy.full((height, width), 255, numpy.uint8)])
        path = pixel_dir / f"{index}.rgba"
        path.write_bytes(rgba.tobytes())
        want = reference_hashes.hash_pixels(root / "corpus" / name, rgb)
        got = harness.evaluate(HASH_PIXELS_JS, [f"/pixels/{index}.rgba", width, height])
        path.unlink()
        if (got["pdq"], got["pdqQuality"], got["phash"]) != (want["pdq"], want["pdq_quality"], want["phash"]):
            mismatches.append(
                f"{name} {width}x{height}: pdq {PDQ.distance(got['pdq'], want['pdq'])} bits, quality "
                f"{got['pdqQuality']}/{want['pdq_quality']}, phash {PHASH.distance(got['phash'], want['phash'])} bits"
            )
    assert not mismatches, "\n".join(mismatches)


def test_hash_pixels_on_random_odd_sizes(harness, tmp_path, site):
    """Noise is the hardest case for rounding: every coefficient sits near the median somewhere."""
    rng = numpy.random.default_rng(7)
    sizes = [(5, 5), (6, 7), (17, 5), (63, 65), (127, 129), (255, 3), (3, 255), (128, 128), (333, 77), (511, 257)]
    for width, height in sizes:
        pixels = rng.integers(0, 256, (height, width, 3), dtype=numpy.uint8)
        rgba = numpy.dstack([pixels, rng.integers(0, 256, (height, width), dtype=numpy.uint8)])  # alpha ignored
        name = f"noise-{width}x{height}.rgba"
        (site.root / name).write_bytes(rgba.tobytes())
        got = harness.evaluate(HASH_PIXELS_JS, [f"/{name}", width, height])
        want = reference.hash_pixels(Image.fromarray(pixels, "RGB"))
        assert (got["pdq"], got["pdqQuality"], got["phash"]) == (want["pdq"], want["pdq_quality"], want["phash"]), \
            f"{width}x{height}"


KIND_SAMPLES = {
    "mp4": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2",
    "m4a": b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00isomiso2",
    "mov-no-ftyp": b"\x00\x00\x00\x08wide\x00\x00\x10\x00mdat",
    "webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01",
    "avi": b"RIFF\x10\x00\x00\x00AVI LIST",
    "flv": b"FLV\x01\x05\x00\x00\x00\x09",
    "mpeg-ps": b"\x00\x00\x01\xba\x44\x00\x04\x00",
    "ogg-theora": b"OggS\x00\x02" + b"\x00" * 20 + b"\x80theora",
    "mpeg-ts": b"".join(b"\x47" + bytes(187) for _ in range(3)),
    "text": b"Dear diary, nothing to see here.",
    "empty": b"",
}


def test_browser_and_reference_agree_on_kinds(site, harness):
    kinds_dir = site.root / "kinds"
    kinds_dir.mkdir(exist_ok=True)
    names = []
    for name, head in KIND_SAMPLES.items():
        (kinds_dir / name).write_bytes(head + (os.urandom(4096) if head else b""))
        names.append(name)
    results = harness.evaluate(HASH_FILES_JS, [f"/kinds/{name}" for name in names])
    for name, got in zip(names, results, strict=True):
        want = reference.hash_file(kinds_dir / name)
        assert (got["kind"], got["md5"], got["pdq"]) == (want["kind"], want["md5"], None), name
    assert [r["kind"] for r in results[:4]] == ["video", "file", "video", "video"]


def test_reference_orientation_edge_cases(tmp_path):
    """XMP orientation counts when EXIF has none; EXIF Pillow cannot parse means upright, not a crash."""
    pixels = numpy.asarray(Image.open(build_one(tmp_path)))
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description tiff:Orientation="3"/></rdf:RDF></x:xmpmeta>'
    with_xmp = tmp_path / "xmp.png"
    Image.fromarray(pixels).save(with_xmp, pnginfo=png_text("XML:com.adobe.xmp", xmp))
    rotated = reference.hash_pixels(Image.fromarray(numpy.ascontiguousarray(pixels[::-1, ::-1])))
    assert reference.hash_file(with_xmp)["pdq"] == rotated["pdq"]

    junk = tmp_path / "junk-exif.jpg"
    Image.fromarray(pixels).save(junk, exif=b"Exif\x00\x00not a tiff header at all")
    assert reference.hash_file(junk)["kind"] == "image"


def build_one(tmp_path):
    path = tmp_path / "one.png"
    y, x = numpy.mgrid[0:90, 0:120]
    Image.fromarray(numpy.dstack([x * 2, y * 2, (x * y) % 256]).astype(numpy.uint8)).save(path)
    return path


def png_text(key, value):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt(key, value.decode())
    return info


STRIP_FILES_JS = """async (urls) => {
  const out = [];
  for (const url of urls) {
    const blob = await (await fetch(url)).blob();
    out.push(await window.hasher.hashFile(blob, {stripDecode: true}));
  }
  return out;
}"""


def test_strip_decoding_gives_the_same_hashes(corpus, harness, reference_hashes):
    """Very large photos are decoded strip by strip to bound memory; force that path on one file per class."""
    root, entries = corpus
    first_of_class = {}
    for name, cls in entries:
        first_of_class.setdefault(cls, name)
    names = sorted(first_of_class.values())
    results = harness.evaluate(STRIP_FILES_JS, [f"/corpus/{name}" for name in names])
    for name, got in zip(names, results, strict=True):
        want = reference_hashes.hash_file(root / "corpus" / name)
        assert (got["pdq"], got["pdqQuality"], got["phash"]) == (want["pdq"], want["pdq_quality"], want["phash"]), name


def test_the_cached_reference_hashes_are_the_references(corpus, reference_hashes):
    """The cache (.cache/, by corpus version and reference code) holds what the reference computes now: checked
    afresh on one file of each class, the whole image hashed and its pixels."""
    root, entries = corpus
    first_of_class = {}
    for name, cls in entries:
        first_of_class.setdefault(cls, name)
    for name in sorted(first_of_class.values()):
        path = root / "corpus" / name
        assert reference_hashes.hash_file(path) == reference.hash_file(path), name
        with Image.open(path) as img:
            rgb = reference.decode(img)
        assert reference_hashes.hash_pixels(path, rgb) == reference.hash_pixels(rgb), name
