"""Personas and shared fixtures. One test module per behaviour; these are reused across them."""

import os
from pathlib import Path

import pyotp
import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.test import Client

from staff import roles
from staff.models import User
from tests.browser_hasher import CHROMIUM, CHROMIUM_ARGS

PASSWORD = "correct horse battery staple"


@pytest.hookimpl(tryfirst=True)  # before -m selects: `make test-fast` must see the mark
def pytest_collection_modifyitems(items):
    # A test that runs a Celery worker spawns processes: it is in the slow lane wherever it is written.
    for item in items:
        if "celery_worker" in getattr(item, "fixturenames", ()) or item.get_closest_marker("worker"):
            item.add_marker(pytest.mark.slow)


def make_staff(email, *role_names, mfa=True, name=""):
    if Group.objects.filter(name__in=roles.ALL).count() < len(roles.ALL):
        roles.sync_groups(Group, Permission)  # a transactional test's flush removes the groups migrations made
    user = User.objects.create_user(email=email, password=PASSWORD, name=name)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    user.groups.set(Group.objects.filter(name__in=role_names))
    if mfa:
        user.totp_secret = pyotp.random_base32()
        TOTP.activate(user, user.totp_secret)
    return user


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashing():
    # Django's PBKDF2 (a million rounds) costs a third of a second for each staff member made or signed in, a few
    # minutes a run; no test checks the hasher's cost. Production settings are untouched.
    from django.conf import settings
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher",
                                             *settings.PASSWORD_HASHERS]):
        yield


@pytest.fixture(scope="session", autouse=True)
def quick_flush():
    """A transactional test (transactional_db, live_server) ends with the database emptied, as Django's flush
    leaves it, in a fraction of the time. Django's flush truncates all ~50 tables, empty or not, then fires
    post_migrate to rebuild the content types and permissions it removed: half a second or more a test on this
    machine, 144 such tests. Here those two tables are kept (rebuilt, they would be the same rows), so post_migrate
    has nothing to do, and only the tables holding rows are emptied, by DELETE: every foreign key Django makes is
    checked at commit, and TRUNCATE would reach every table that refers to one of them (nearly all refer to the
    staff). A table whose triggers refuse DELETE (the append-only audit log) is truncated, with those referring to
    it. Everything else a test left is gone, as after Django's flush; sequences go on, as they do after it."""
    from unittest import mock

    from django.contrib.contenttypes.models import ContentType
    from django.db import connections, transaction
    from django.test import TransactionTestCase

    kept = {ContentType._meta.db_table, Permission._meta.db_table}  # what post_migrate would make again

    def flush(test_case):
        for alias in test_case._databases_names(include_mirrors=False):
            connection = connections[alias]
            quote = connection.ops.quote_name
            tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
            tables = sorted(set(tables) - kept)
            with transaction.atomic(using=alias), connection.cursor() as cursor:
                cursor.execute(" UNION ALL ".join(f"SELECT %s::text WHERE EXISTS (SELECT FROM {quote(table)})"
                                                  for table in tables), tables)
                holding = [row[0] for row in cursor.fetchall()]
                cursor.execute("SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal")
                guarded = {row[0] for row in cursor.fetchall()}
                for table in holding:
                    cursor.execute(f"TRUNCATE {quote(table)} CASCADE" if table in guarded else
                                   f"DELETE FROM {quote(table)}")

    with mock.patch.object(TransactionTestCase, "_fixture_teardown", flush):
        yield


@pytest.fixture(autouse=True)
def fresh_cache():
    # Rate limits and used TOTP codes live in the cache; each test starts clean.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def caseworker(db):
    return make_staff("casey@helpline.test", roles.CASEWORKER, name="Casey")


@pytest.fixture
def supervisor(db):
    return make_staff("sam@helpline.test", roles.SUPERVISOR, name="Sam")


@pytest.fixture
def partner_manager(db):
    return make_staff("pat@helpline.test", roles.PARTNER_MANAGER, name="Pat")


@pytest.fixture
def administrator(db):
    return make_staff("alex@helpline.test", roles.ADMINISTRATOR, name="Alex")


@pytest.fixture
def newcomer(db):
    """Signed up through an invitation, has a password, has not set up an authenticator yet."""
    return make_staff("new@helpline.test", roles.CASEWORKER, mfa=False)


@pytest.fixture
def personas(caseworker, supervisor, partner_manager, administrator):
    return {
        roles.CASEWORKER: caseworker,
        roles.SUPERVISOR: supervisor,
        roles.PARTNER_MANAGER: partner_manager,
        roles.ADMINISTRATOR: administrator,
    }


def signed_in_client(user):
    """A fresh test client signed in as `user`, past the MFA step (the user has an authenticator)."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def login_as(db):
    """login_as(user): a test client signed in as that user."""
    return signed_in_client


def totp_now(user):
    return pyotp.TOTP(user.totp_secret).now()


# --- Browser -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls tests make around it are safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def signed_in_context(browser, live_server, user, **options):
    """A browser context signed in as `user` (past MFA), by the session cookie of a signed-in test client;
    `options` go to the context (a viewport, say)."""
    from django.conf import settings

    client = signed_in_client(user)
    context = browser.new_context(**options)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    return context


AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page, impacts=("serious", "critical")):
    """axe-core's violations of these impacts on the page as it is now: [(rule, impact, [targets])].

    Injected through the DevTools protocol, which the page's Content Security Policy does not govern.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]])
            for v in result["violations"] if v["impact"] in impacts]


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


# --- Other processes (Celery worker, gunicorn) ------------------------------------------------------


def server_env(django_db_blocker):
    """The environment for a process of ours that must use the test database."""
    from django.conf import settings
    from django.db import connection

    with django_db_blocker.unblock():
        test_db = connection.settings_dict["NAME"]
    env = {**os.environ, "DATABASE_URL": settings.DATABASE_URL.rsplit("/", 1)[0] + "/" + test_db}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env



# Push in test time: webhooks on this machine, seconds instead of hours (tests/test_push*.py).
PUSH_ENV = {"WEBHOOK_ALLOW_LOOPBACK": "1", "PUSH_TIMEOUT": "1", "PUSH_LEASE_SECONDS": "4", "PUSH_BATCH_WAIT": "0.2",
            "PUSH_REDRIVE_SECONDS": "1", "PUSH_RETRY_SCHEDULE": "0.2,0.3,0.4,0.5,0.6", "PUSH_BATCH_SIZE": "50"}


@pytest.fixture
def receiver():
    from tests.webhooks import Receiver

    made = []

    def make(**kwargs):
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.fixture
def web_pages():
    from tests.takedown_calls import WebPages

    made = []

    def make(**kwargs):
        made.append(WebPages(**kwargs))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.fixture
def push_settings(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.PUSH_BATCH_WAIT = float(PUSH_ENV["PUSH_BATCH_WAIT"])
    settings.PUSH_TIMEOUT = 1
    return settings


WORKER_STARTED = []  # the session's Celery worker, once a test has started it (worker_process)


@pytest.fixture
def push_by_hand(monkeypatch):
    """Push rounds run only when the test runs them (push.run_round). The session's Celery worker, once a test started
    it, would run rounds of its own beside the test's: nothing here asks it for one (a bank change, a resume), and
    the rounds earlier tests left queued or scheduled (a retry's countdown, a re-drive) are dropped first."""
    from ncii_portal.celery import app
    from partners import tasks

    monkeypatch.setattr(tasks, "enqueue", lambda *args, **kwargs: True)  # every round queued goes through it
    app.control.purge()
    if not WORKER_STARTED:
        return  # no worker to ask (the fast lane): asking would wait out the whole timeout for no answer
    scheduled = app.control.inspect(timeout=0.5, limit=1).scheduled() or {}  # one worker: no waiting out the timeout
    waiting = [task["request"]["id"] for tasks_ in scheduled.values() for task in tasks_]
    if waiting:
        app.control.revoke(waiting)


@pytest.fixture
def celery_in_process():
    """Tasks run where they are queued, at once (Celery's eager mode): work queued after commit (a takedown
    request's mail) is done before the test goes on, into Django's test outbox (mail.outbox)."""
    from ncii_portal.celery import app

    before, app.conf.task_always_eager = app.conf.task_always_eager, True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(scope="session")
def worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker process on the test broker, using the test database: one for the session (tests ask
    for it through celery_worker, which leaves it quiet after each test)."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    from ncii_portal.celery import app

    mail_dir = tmp_path_factory.mktemp("worker-mail")  # what the worker mails, as files
    env = {**server_env(django_db_blocker), "C_FORCE_ROOT": "1", **PUSH_ENV, "EMAIL_FILE_PATH": str(mail_dir),
           "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"}
    app.control.purge()  # nothing left over from an earlier run
    # Its log goes to a file that tests can read (tests/test_log_redaction.py).
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ncii_portal", "worker", "--pool=solo",
             "--include", "tests.tasks", "--hostname", f"test-{os.getpid()}@%h"],
            cwd=Path(__file__).resolve().parent.parent, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    worker.log_path, worker.mail_dir = log, mail_dir
    WORKER_STARTED.append(worker)
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        assert worker.poll() is None, "the Celery worker exited:\n" + log.read_text()
        assert time.monotonic() < deadline, "the Celery worker did not answer within 60 s"
    yield worker
    WORKER_STARTED.remove(worker)
    worker.terminate()
    worker.wait(timeout=30)


@pytest.fixture
def celery_worker(worker_process, request):
    """The session's Celery worker, quiet again when the test ends: nothing running, nothing queued or scheduled.

    A test may end while the worker still works for it (a partner that never answers, its retries). That work
    must not run into the next test, nor into the test database's flush: a TRUNCATE waiting for a task's table
    lock while the task waits for a table the TRUNCATE holds is a deadlock, and the next test then starts on the
    last one's rows. So this fixture's teardown runs before the database's (it sets the database up first)."""
    for database in ("transactional_db", "db"):
        if database in request.fixturenames:
            request.getfixturevalue(database)
    yield worker_process
    quieten_worker()


def quieten_worker(timeout=60):
    """Drop what is queued, revoke what the worker holds for later, and wait for what it runs to end; again,
    until it answers idle (a solo worker running a task cannot answer, and a task may queue another)."""
    import time

    from ncii_portal.celery import app

    deadline, revoked = time.monotonic() + timeout, set()
    while time.monotonic() < deadline:
        app.control.purge()
        inspect = app.control.inspect(timeout=0.5, limit=1)  # one worker: no waiting out the timeout
        active, reserved, scheduled = inspect.active(), inspect.reserved(), inspect.scheduled()
        if None in (active, reserved, scheduled):
            continue  # busy with a task
        running = [task["id"] for tasks in active.values() for task in tasks]
        waiting = {task["id"] for tasks in reserved.values() for task in tasks}
        waiting |= {task["request"]["id"] for tasks in scheduled.values() for task in tasks}
        waiting -= revoked  # a revoked task stays listed until its time comes, then is dropped
        if not running and not waiting:
            return
        if waiting:
            app.control.revoke(list(waiting))
            revoked |= waiting
        time.sleep(0.1)
    raise AssertionError(f"the Celery worker was still busy {timeout} s after the test")


def wait_for(predicate, timeout=20, interval=0.1):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
