"""The README's development commands: `bin/run` (what `make run` starts) and the TOTP one-liner.

bin/run starts web, worker and beat on an embedded PostgreSQL; Ctrl-C must stop all of them and that database.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pyotp
import pytest

from tests.conftest import wait_for
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def bare_env(**extra):
    """A shell's environment with none of the portal's variables (as on a fresh machine)."""
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8", **extra}


@pytest.fixture
def data_dir():
    # Not under pytest's tmp_path: as root, pgserver runs PostgreSQL as another user, who must reach the folder.
    path = Path(tempfile.mkdtemp(prefix="ncii-run-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_bin_run_serves_and_stops_cleanly_on_ctrl_c(data_dir):
    port, receiver_port = free_port(), free_port()
    env = bare_env(DEBUG="1", DATA_DIR=str(data_dir), PORT=str(port), DEMO_RECEIVER_PORT=str(receiver_port))
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr
    log = data_dir / "run.log"
    with open(log, "wb") as out:
        run = subprocess.Popen(["bin/run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)  # its own process group, as a terminal gives it
    try:
        def answers(url):
            try:
                with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310
                    return r.status == 200
            except OSError:
                return False

        assert wait_for(lambda: answers(f"http://127.0.0.1:{port}/accounts/login/"), timeout=120), log.read_text()
        assert wait_for(lambda: answers(f"http://127.0.0.1:{receiver_port}/"), timeout=30), log.read_text()
        accounts = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        assert {a["role"] for a in accounts} == {"caseworker", "supervisor", "partner_manager", "administrator"}

        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground process group
        try:
            run.wait(timeout=60)
        except subprocess.TimeoutExpired:
            left = subprocess.run(["ps", "-o", "pid,stat,args", "-g", str(run.pid)], capture_output=True, text=True)
            pytest.fail(f"bin/run did not stop within 60 s of Ctrl-C; still running:\n{left.stdout}\n"
                        f"its log:\n{log.read_text()[-4000:]}")
        assert wait_for(lambda: not group_alive(run.pid), timeout=30), "a process of bin/run was left running"
        assert not (data_dir / "pg" / "postmaster.pid").exists(), "the embedded PostgreSQL is still running"
        assert "Segmentation fault" not in log.read_text()
        assert not (ROOT / "control").exists(), "the file-system broker writes only under DATA_DIR"
    finally:
        if group_alive(run.pid):
            os.killpg(run.pid, signal.SIGKILL)
        subprocess.run([sys.executable, "-m", "ncii_portal.embedded_db", "stop"], cwd=ROOT, env=env, timeout=60)


def test_readme_totp_command_works_after_make_run_alone():
    """The README's command for a demo account's code needs only what `make run` installs, and no environment."""
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"`([^`]*totp_code[^`]*)`", readme).group(1)
    secret = pyotp.random_base32()
    args = command.replace("SECRET", secret).split()
    assert args[0] == ".venv/bin/python", "the command uses the project's environment"
    runtime_python = [sys.executable, *args[1:]]
    started = time.time()
    result = subprocess.run(runtime_python, cwd=ROOT, env=bare_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    totp = pyotp.TOTP(secret)
    assert result.stdout.strip() in {totp.at(started), totp.at(time.time())}


def test_readme_promises_only_docs_that_exist():
    readme = (ROOT / "README.md").read_text()
    for path in re.findall(r"`?(docs/[\w./-]+\.md)`?", readme):
        assert (ROOT / path).exists(), path
    for command in re.findall(r"`(make \w+)", readme):
        target = command.split()[1]
        assert re.search(rf"^{target}:", (ROOT / "Makefile").read_text(), re.M), command


@pytest.mark.parametrize("present, missing", [
    (["chromium", "ffmpeg"], ["gettext"]),
    (["msgfmt", "ffmpeg"], ["chromium"]),
    (["chromium", "msgfmt"], ["ffmpeg"]),
    ([], ["chromium", "gettext", "ffmpeg"]),
    (["chromium", "msgfmt", "ffmpeg"], []),
])
def test_make_test_installs_each_missing_system_package(tmp_path, present, missing):
    for name in present:
        tool = tmp_path / name
        tool.write_text("#!/bin/sh\n")
        tool.chmod(0o755)
    make = shutil.which("make")
    result = subprocess.run([make, "-n", "system-packages"], cwd=ROOT, env={"PATH": str(tmp_path)},
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    installs = re.search(r"apt-get install -y -q ([\w ]*)", result.stdout).group(1).split()
    assert installs == missing


AV_LIBRARIES = ["libavdevice", "libavfilter", "libavformat", "libavcodec", "libswresample", "libswscale", "libavutil"]


@pytest.mark.parametrize("present, installs", [
    (["libavcodec", "libavformat", "libavutil", "libswscale"], [f"{name}-dev" for name in AV_LIBRARIES]),
    ([], [f"{name}-dev" for name in AV_LIBRARIES]),
    (AV_LIBRARIES, None),
])
def test_make_installs_what_vpdqs_build_asks_for(tmp_path, present, installs):
    """vpdq (requirements-dev.txt) builds against all seven of FFmpeg's libraries (its CMake checks each): a machine
    missing any of them gets their development packages before pip runs (a fresh machine had only four)."""
    pkg_config = tmp_path / "pkg-config"  # exits 0 only when every library asked for is present
    listed = " ".join(present)
    pkg_config.write_text(f"#!/bin/sh\nfor a; do case $a in --*) ;; *) case ' {listed} ' in *\" $a \"*) ;; "
                          "*) exit 1;; esac;; esac; done\n")
    for name in ("cmake", "g++"):
        (tmp_path / name).write_text("#!/bin/sh\n")
    for tool in tmp_path.iterdir():
        tool.chmod(0o755)
    (tmp_path / "sh").symlink_to(shutil.which("sh"))
    result = subprocess.run([shutil.which("make"), "-n", "system-build"], cwd=ROOT,
                            env={"PATH": str(tmp_path)}, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    asked = re.search(r"apt-get install -y -q ([\w -]*)", result.stdout)
    if installs is None:
        assert 'if [ -n "" ]' in result.stdout, result.stdout
    else:
        assert asked.group(1).split() == installs
