"""The browser hasher gives the reference packages' hashes: hashFile against the Python reference hasher on
the same files, and hashPixels against pdqhash and imagehash on the same pixels.

Targets (issue 3): PDQ identical on >= 99 % and never more than 2 bits apart; pHash identical on >= 99 %;
MD5 identical on all; hashPixels bit-identical on all.
"""

from collections import Counter, defaultdict

import numpy
import pytest
from PIL import Image

from hashing import reference
from hashing.signals import PDQ, PHASH
from tests.browser_hasher import HASH_FILES_JS, HASH_PIXELS_JS, HarnessSite
from tests.hashing_corpus import build

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("hasher-site")
    entries = build(root / "corpus")
    return root, entries


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
    lines = [f"{'class':18} {'n':>4} {'pdq=':>5} {'max':>4} {'phash=':>6} {'md5=':>5}"]
    for cls, stats in sorted(rows.items()):
        lines.append(f"{cls:18} {stats['n']:4} {stats['pdq_same']:5} {stats['pdq_max']:4} {stats['phash_same']:6} "
                     f"{stats['md5_same']:5}")
    return "\n".join(lines)


def test_hash_file_matches_the_python_reference(corpus, harness):
    root, entries = corpus
    assert len(entries) >= 200
    classes = Counter(cls for _, cls in entries)
    assert min(classes.values()) >= 10, classes

    results = []
    for start in range(0, len(entries), 25):
        batch = entries[start:start + 25]
        results += harness.evaluate(HASH_FILES_JS, [f"/corpus/{name}" for name, _ in batch])

    rows = defaultdict(lambda: Counter(pdq_max=0))
    failures, pdq_same, phash_same = [], 0, 0
    for (name, cls), got in zip(entries, results, strict=True):
        want = reference.hash_file(root / "corpus" / name)
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
        pdq_same += distance == 0
        phash_same += got["phash"] == want["phash"]
        if distance > 2:
            failures.append(f"{name}: PDQ {distance} bits from the reference")
    report = summary(rows)
    print("\nhashFile vs Python reference\n" + report)
    assert not failures, "\n".join(failures) + "\n" + report
    assert pdq_same >= 0.99 * len(entries), report
    assert phash_same >= 0.99 * len(entries), report


def test_hash_pixels_is_bit_identical_to_the_packages(corpus, harness):
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
        want = reference.hash_pixels(rgb)
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
