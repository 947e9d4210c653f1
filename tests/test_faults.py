"""Faults on the real stack: a Celery worker killed in the middle of a backtest and of
an import, PostgreSQL restarted while people vote, Redis gone. Each test asserts that
nothing was lost or half-done, and that the person can carry on.

The worker is killed at a known point, not by luck: another connection holds a row that
the job must write next, the job waits on it, and the worker dies while it waits."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from definitions import rules
from definitions.models import Vote
from definitions.versions import services as version_services
from feedback.backtests import services as backtest_services
from feedback.backtests.selectors import latest_done_run
from feedback.bench.data import mapping, write_csv
from feedback.imports import run as import_run
from feedback.imports import services as import_services
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from feedback.models import EvaluationRun, ImportJob, ImportState, Lead, LeadResult, RunState
from feedback.tasks import backtest_prepare_task, run_import
from tests.conftest import ROOT, _test_database_url, start_worker, stop_worker
from tests.factories import UserFactory, WorkshopFactory, open_for_vote

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def wait_for(check: Callable[[], bool], what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"waited {seconds} s for {what}")


def lock_waiters() -> int:
    """Backends of the test database waiting for a row lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


@contextmanager
def held_row(make: Callable[[], object]) -> Iterator[None]:
    """Insert a row in a transaction of another connection and keep it open: whoever
    inserts the same key waits for it. Rolled back on leaving the block."""
    ready, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                make()
                ready.set()
                release.wait(180)
                transaction.set_rollback(True)
        except BaseException as error:
            errors.append(error)
            ready.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    ready.wait(30)
    assert not errors, errors
    try:
        yield
    finally:
        release.set()
        thread.join(30)


def kill_hard(worker: subprocess.Popen[str]) -> None:
    """SIGKILL the worker's whole process group: no clean-up, no warm shutdown."""
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=20)


def backends_gone() -> bool:
    """The killed worker's database backend has noticed and ended (rolling back)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return int(cursor.fetchone()[0]) == 0


@pytest.fixture
def queue_for_real() -> Iterator[None]:
    from leadworkshop.celery import app

    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


# ------------------------------------------------------------------ a worker killed


def test_a_worker_killed_during_a_backtest_leaves_no_half_results_and_a_retry_completes(
    queue_for_real: None, settings: Any
) -> None:
    admin: Any = UserFactory(username="fault-admin")
    workshop: Any = WorkshopFactory(actor=admin, name="Faults", slug="faults")
    leads_insert_generated(workshop=workshop, leads=generate(300, seed=5))
    version = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    run = backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=version, enqueue=False
    )
    _total, chunks = backtest_services._chunks(workshop.pk, 100)  # as the worker cuts them
    assert len(chunks) == 3
    first_of_second = Lead.objects.filter(workshop=workshop, id__gte=chunks[1][1]).order_by("id")[0]
    first_chunk = Lead.objects.filter(workshop=workshop, id__lt=chunks[0][2]).count()

    worker = start_worker()
    try:
        with held_row(
            lambda: LeadResult.objects.create(
                run=run, lead_id=first_of_second.pk, qualified=False, junk=False, score=0
            )
        ):
            backtest_prepare_task.delay(run.pk)  # what a start queues
            wait_for(
                lambda: (
                    EvaluationRun.objects.get(pk=run.pk).chunks_done == 1 and lock_waiters() >= 1
                ),
                "the second chunk to wait on the held row",
            )
            kill_hard(worker)
        wait_for(backends_gone, "the killed worker's database backend to end")

        run.refresh_from_db()
        assert (run.state, run.chunks_done) == (RunState.RUNNING, 1)
        # The first chunk's results, whole; nothing of the second; nobody sees either.
        assert LeadResult.objects.filter(run=run).count() == first_chunk
        assert latest_done_run(workshop, version=version) is None

        # Housekeeping finds it without progress, fails it and drops its results.
        settings.BACKTEST_TIMEOUT_SECONDS = 1
        time.sleep(1.1)
        assert backtest_services.backtests_expire_overdue() == 1
        run.refresh_from_db()
        assert run.state == RunState.FAILED
        assert "run it again" in run.message.lower()
        assert not LeadResult.objects.filter(run=run).exists()

        worker = start_worker()
        backtest_services.backtest_retry(actor=admin, run=run)
        wait_for(
            lambda: EvaluationRun.objects.get(pk=run.pk).state == RunState.DONE,
            "the retried run to finish",
        )
    finally:
        stop_worker(worker)
    run.refresh_from_db()
    assert LeadResult.objects.filter(run=run).count() == run.leads_done == 300
    reference = backtest_services.backtest_run_inline(
        backtest_services.backtest_start(
            actor=admin, workshop=workshop, version=version, enqueue=False, reuse=False
        )
    )
    assert run.stage_counts == reference.stage_counts
    assert run.criterion_counts == reference.criterion_counts


def test_a_worker_killed_during_an_import_imports_nothing_and_a_retry_imports_all(
    queue_for_real: None, tmp_path: Path
) -> None:
    admin: Any = UserFactory(username="fault-importer")
    workshop: Any = WorkshopFactory(actor=admin, name="Import faults", slug="import-faults")
    path = tmp_path / "leads.csv"
    write_csv(path, 300, seed=3, id_prefix="F")
    rows = path.read_text(encoding="utf-8").splitlines()
    held_id = rows[150].split(",")[0]  # a lead in the middle of the file
    with path.open("rb") as handle:
        job, _shape = import_services.import_upload(
            actor=admin, workshop=workshop, upload=SimpleUploadedFile("leads.csv", handle.read())
        )
    import_services.import_start(actor=admin, job=job, mapping=mapping(), enqueue=False)

    worker = start_worker()
    try:
        with held_row(lambda: Lead.objects.create(workshop=workshop, external_id=held_id)):
            run_import.delay(job.pk)  # what a start queues
            wait_for(
                lambda: (
                    ImportJob.objects.get(pk=job.pk).state == ImportState.RUNNING
                    and lock_waiters() >= 1
                ),
                "the merge to wait on the held lead",
            )
            kill_hard(worker)
        wait_for(backends_gone, "the killed worker's database backend to end")

        assert not Lead.objects.filter(workshop=workshop).exists()  # the merge was undone
        assert ImportJob.objects.get(pk=job.pk).state == ImportState.RUNNING
        # Housekeeping sees that no worker holds the job any more.
        assert import_run.imports_recover() == 1
        job.refresh_from_db()
        assert job.state == ImportState.FAILED
        assert "nothing was imported" in job.message.lower()

        worker = start_worker()
        import_services.import_retry(actor=admin, job=job)
        wait_for(
            lambda: ImportJob.objects.get(pk=job.pk).state == ImportState.DONE,
            "the retried import to finish",
        )
    finally:
        stop_worker(worker)
    job.refresh_from_db()
    assert (job.imported, job.errors) == (300, 0)
    assert Lead.objects.filter(workshop=workshop).count() == 300


def test_a_running_import_is_left_alone_by_housekeeping(admin: Any, workshop: Any) -> None:
    """The lock tells a live import from a dead one: while its connection holds the
    job, housekeeping does not touch it."""
    job, _shape = import_services.import_upload(
        actor=admin, workshop=workshop, upload=SimpleUploadedFile("l.csv", b"ID,Name\nA1,Ann\n")
    )
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportState.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    with held_lock(job.pk):
        assert import_run.imports_recover() == 0
    assert ImportJob.objects.get(pk=job.pk).state == ImportState.RUNNING
    assert import_run.imports_recover() == 1


@contextmanager
def held_lock(job_id: int) -> Iterator[None]:
    """The job's lock, held by another connection as a live worker's would be."""
    ready, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            assert import_run.claim(job_id)
            ready.set()
            release.wait(60)
            import_run.release(job_id)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    ready.wait(30)
    try:
        yield
    finally:
        release.set()
        thread.join(30)


# ------------------------------------------------------------------ a real web server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def production_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """collectstatic as production runs it (hashed, compressed): DEBUG=0 pages need
    its manifest. Building it here also proves that it builds."""
    var = tmp_path_factory.mktemp("var")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "0", "VAR_DIR": str(var), "SECRET_KEY": "x" * 50},
        check=True,
    )
    return var


@contextmanager
def web_server(var: Path, **env: str) -> Iterator[str]:
    """gunicorn with production settings (but plain HTTP) on the test database."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "leadworkshop.wsgi", "--workers", "1",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": _test_database_url(),
            "DEBUG": "0",
            "VAR_DIR": str(var),
            "SECRET_KEY": django_settings.SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            **env,
        },
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{base}/healthz"), "gunicorn to answer", 30)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def _answers(url: str) -> bool:
    # A booting gunicorn may accept the connection before a worker can answer it: a
    # read timeout means "not yet", like a refused connection.
    try:
        requests.get(url, timeout=2)
    except (requests.ConnectionError, requests.Timeout):
        return False
    return True


def browser_session(user: Any, base: str, page: str) -> requests.Session:
    """An HTTP session logged in as ``user``, holding the CSRF cookie of ``page``."""
    client = Client()
    client.force_login(user)
    http = requests.Session()
    http.cookies.set("sessionid", client.cookies["sessionid"].value)
    assert http.get(base + page, timeout=10).status_code == 200
    http.headers["X-CSRFToken"] = http.cookies.get("csrftoken") or ""
    return http


def _postgres_cluster() -> list[str]:
    """`pg_ctlcluster VERSION NAME` of the local cluster on the test database's port."""
    if shutil.which("pg_lsclusters") is None or shutil.which("pg_ctlcluster") is None:
        pytest.skip("pg_lsclusters/pg_ctlcluster not found: no local cluster to restart")
    port = str(connection.settings_dict["PORT"] or 5432)
    for line in subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout.splitlines():
        version, name, cluster_port, *_rest = line.split()
        if cluster_port == port:
            return [version, name]
    pytest.skip(f"no local PostgreSQL cluster on port {port} to restart")


def test_votes_while_postgresql_restarts_are_saved_or_refused_clearly_and_can_be_retried(
    production_static: Path,
) -> None:
    cluster = _postgres_cluster()
    admin: Any = UserFactory(username="voter")
    workshop: Any = WorkshopFactory(actor=admin, name="Restart", slug="restart")
    proposal = open_for_vote(admin, workshop)
    page = reverse("definitions:proposal_detail", args=["restart", proposal.pk])
    vote = reverse("definitions:vote_cast", args=["restart", proposal.pk])
    # Kept connections, as production may run: the restart breaks one the server holds.
    with web_server(production_static, DATABASE_CONN_MAX_AGE="60") as base:
        http = browser_session(admin, base, page)
        restart = threading.Thread(
            target=subprocess.run,
            args=(["pg_ctlcluster", *cluster, "restart", "-m", "fast"],),
            kwargs={"check": True},
        )
        outcomes: list[tuple[str, int, str]] = []
        restart.start()
        deadline = time.monotonic() + 60
        while (restart.is_alive() or len(outcomes) < 10) and time.monotonic() < deadline:
            choice = ("agree", "disagree")[len(outcomes) % 2]
            # With a reason: a disagreement without one is refused (400) by design.
            answer = http.post(
                base + vote,
                {"choice": choice, "reason": "during the restart"},
                allow_redirects=False,
                timeout=10,
            )
            outcomes.append((choice, answer.status_code, answer.text))
            time.sleep(0.05)
        restart.join()
        # The person tries again once the database is back: it is saved.
        for _attempt in range(40):
            final = http.post(base + vote, {"choice": "abstain"}, allow_redirects=False, timeout=10)
            if final.status_code == 302:
                break
            time.sleep(0.5)
    connection.close()  # this test's own connection ended with the restart

    statuses = {status for _choice, status, _body in outcomes}
    assert statuses <= {302, 503}, statuses
    assert 503 in statuses, "no vote met the restart: the test proved nothing"
    for _choice, status, body in outcomes:
        if status == 503:
            assert "nothing you just sent was saved" in body
    assert final.status_code == 302
    assert list(Vote.objects.filter(proposal=proposal).values_list("choice", flat=True)) == [
        "abstain"
    ]


@pytest.fixture
def private_redis() -> Iterator[Callable[[bool], int]]:
    """A Redis server of this test's own, to stop and start at will (the shared one
    stays up for everything else). Call it with True to (re)start, False to stop."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not found: no Redis to take down")
    port = _free_port()
    process: list[subprocess.Popen[bytes]] = []

    def switch(up: bool) -> int:
        if up:
            process.append(
                subprocess.Popen(
                    [
                        binary,
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                    ],
                    stdout=subprocess.DEVNULL,
                )
            )
            wait_for(lambda: _pings(port), "Redis to start", 20)
        else:
            process[-1].terminate()
            process[-1].wait(timeout=20)
        return port

    yield switch
    for each in process:
        if each.poll() is None:
            each.terminate()
            each.wait(timeout=20)


def _pings(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_timeout=1).ping())
    except redis.ConnectionError:
        return False


def test_with_redis_down_pages_work_jobs_say_they_cannot_start_and_queue_once_it_is_back(
    production_static: Path, private_redis: Callable[[bool], int]
) -> None:
    port = private_redis(True)
    admin: Any = UserFactory(username="redis-admin")
    workshop: Any = WorkshopFactory(actor=admin, name="No Redis", slug="no-redis")
    leads_insert_generated(workshop=workshop, leads=generate(50, seed=9))
    proposal = open_for_vote(admin, workshop)
    pages = [
        reverse("definitions:workshop_home", args=["no-redis"]),
        reverse("definitions:proposal_detail", args=["no-redis", proposal.pk]),
        reverse("feedback:lead_list", args=["no-redis"]),
        reverse("feedback:run_list", args=["no-redis"]),
    ]
    with web_server(production_static, CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0") as base:
        http = browser_session(admin, base, pages[0])
        assert [http.get(base + p, timeout=10).status_code for p in pages] == [200] * 4

        private_redis(False)
        assert [http.get(base + p, timeout=10).status_code for p in pages] == [200] * 4
        started = time.monotonic()
        answer = http.post(
            base + reverse("feedback:backtest_start", args=["no-redis"]),
            {"version": "1"},
            timeout=30,
        )
        assert time.monotonic() - started < 15  # a clear answer, not a hang
        assert answer.status_code == 200
        assert "background worker cannot be reached" in answer.text
        run = EvaluationRun.objects.get(workshop=workshop)
        assert run.state == RunState.FAILED

        private_redis(True)
        retried = http.post(
            base + reverse("feedback:run_retry", args=["no-redis", run.pk]), timeout=30
        )
        assert retried.status_code == 200
    run.refresh_from_db()
    assert run.state == RunState.QUEUED
    assert redis.Redis(port=port).llen("celery") == 1  # waiting for a worker
