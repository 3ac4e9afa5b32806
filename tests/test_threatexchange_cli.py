"""The `threatexchange` CLI, run as a partner runs it, against the live portal: `config collab`, `fetch`, then
`match photo` finds a real photo the portal shared, and nothing else.

How the CLI is pointed at the portal: `config api` has no StopNCII subcommand in threatexchange 1.2.17, so the CLI
takes StopNCII credentials from the environment variable TX_STOPNCII_KEYS (or the file ~/.tx_stopncii_keys) as
"fetch_function_key,subscription_key[,base_url_override]" (StopNCIICredentials in
threatexchange/exchanges/impl/stop_ncii_api.py). The optional third field is the base URL, so the unmodified CLI
talks to the portal. HOME is a temporary folder, so the CLI's state (~/.threatexchange) starts empty and is thrown
away.
"""

import os
import re
import subprocess
import sys

import numpy
import pytest
from django.urls import reverse
from PIL import Image, ImageDraw, ImageFilter

from hashing.reference import hash_file
from partners import onboarding
from staff import roles
from tests.calls import issue_code, open_case, submit
from tests.conftest import make_staff
from tests.helpers import ACTOR, live_partner, wait_for_the_stopncii_horizon

COLLAB = "helpline"
pytestmark = pytest.mark.slow  # the threatexchange CLI, a process of its own


def photo(path, seed, size=(800, 600)):
    """A photo-like JPEG: a sky gradient, overlapping shapes, a little blur and sensor grain. The seed picks it."""
    rng = numpy.random.default_rng(seed)
    width, height = size
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    ramp = numpy.linspace(0, 1, height)[:, None, None]
    sky = (top * (1 - ramp) + bottom * ramp) * numpy.ones((1, width, 1))
    img = Image.fromarray(sky.astype(numpy.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(40, width // 2)), int(rng.integers(40, height // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = rng.choice(["ellipse", "rectangle", "polygon"])
        if shape == "polygon":
            draw.polygon([(x + int(dx), y + int(dy)) for dx, dy in rng.integers(-w, w, (5, 2))], fill=colour)
        else:
            getattr(draw, shape)([x, y, x + w, y + h], fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(2))
    grain = rng.normal(0, 8, (height, width, 3))
    pixels = numpy.clip(numpy.asarray(img) + grain, 0, 255).astype(numpy.uint8)
    Image.fromarray(pixels, "RGB").save(path, "JPEG", quality=90)
    return path


def resaved_smaller(source, path):
    """The same photo as it often turns up again: half the size, recompressed harder."""
    with Image.open(source) as img:
        img.resize((img.width // 2, img.height // 2)).save(path, "JPEG", quality=60)
    return path


@pytest.fixture
def threatexchange(live_server, transactional_db, tmp_path):
    """Runs the installed CLI with a live partner's fetch+feedback key and an empty state folder."""
    key, secret = onboarding.issue_key(live_partner(), scopes=["fetch", "feedback"], **ACTOR)
    base = live_server.url + reverse("api:stopncii_fetch_hashes").rsplit("/", 1)[0]
    home = tmp_path / "home"
    home.mkdir()
    env = {name: value for name, value in os.environ.items() if not name.startswith("TX_")}
    env.update(HOME=str(home), TX_STOPNCII_KEYS=f"{secret},{key.public_id},{base}")

    def run(*args):
        done = subprocess.run([sys.executable, "-m", "threatexchange", *map(str, args)], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"threatexchange {' '.join(map(str, args))}: {done.stderr}"
        return done.stdout

    return run


def matches(output):
    """(signal type, distance, collab) for each line `threatexchange match` printed."""
    return [(m[1], int(m[2]), m[3]) for m in re.finditer(r"^(\S+) (\d+) \((.+?)\) ", output, re.MULTILINE)]


def test_the_cli_matches_a_real_photo_the_portal_shared(threatexchange, tmp_path):
    caseworker = make_staff("casey@helpline.test", roles.CASEWORKER)
    shared = [photo(tmp_path / f"shared-{n}.jpg", seed=n) for n in (1, 2)]
    unrelated = photo(tmp_path / "unrelated.jpg", seed=3)
    # Two photos: threatexchange 1.2.17's PDQ index loses its only entry when a one-hash index is reloaded.
    items = [hash_file(path) for path in shared]
    assert all(item["kind"] == "image" and item["pdq_quality"] >= 50 for item in items)
    response = submit(issue_code(open_case(caseworker), caseworker), items)
    assert response.status_code < 300, response.content

    threatexchange("config", "collab", "edit", "stop_ncii", COLLAB, "--create")
    assert threatexchange("config", "collab", "list").split() == ["stop_ncii", COLLAB]
    wait_for_the_stopncii_horizon()  # a sync never hands out a second that may still change
    threatexchange("fetch")
    fetched = threatexchange("dataset", "--print-signals", "--print-signals-only").split()
    assert sorted(fetched) == sorted(["pdq"] * 2 + [item["pdq"] for item in items])

    # The photo itself: the CLI's own PDQ of the file is the portal's, bit for bit.
    assert matches(threatexchange("match", "photo", shared[0])) == [("pdq", 0, COLLAB)]
    # Resized and recompressed, it still matches (PDQ's threshold is 31 bits).
    altered = resaved_smaller(shared[1], tmp_path / "resaved.jpg")
    [(signal, distance, collab)] = matches(threatexchange("match", "photo", altered))
    assert signal == "pdq" and collab == COLLAB and 0 < distance <= 31
    # A photo nobody shared matches nothing.
    assert threatexchange("match", "photo", unrelated).strip() == ""
