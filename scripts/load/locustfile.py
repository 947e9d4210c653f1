"""The load scenario that scripts/loadtest.sh runs with locust against gunicorn and
one Celery worker: 50 stakeholders follow a proposal under vote, 20 sales reps triage
leads, 5 admins import CSV files, in the workshop `manage.py load_prepare` made (1M
leads). Each user logs in once, as a person would, and then acts at a human pace.

Request names group what locust reports: one line per page or action, not per URL.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.htmlform import as_post, form_data  # noqa: E402  (the same reader the tests use)

SLUG = os.environ.get("LOAD_SLUG", "load")
PASSWORD = os.environ.get("LOAD_PASSWORD", "load-test-password")
PROPOSAL = int(os.environ.get("LOAD_PROPOSAL", "1"))
CSV_DIR = Path(os.environ.get("LOAD_CSV_DIR", ROOT / "var" / "load"))
W = f"/w/{SLUG}"
HTMX = {"HX-Request": "true"}
# How often, on average, each stakeholder votes or changes their vote.
VOTE_MINUTES = float(os.environ.get("LOAD_VOTE_MINUTES", "15"))
REASONS = ["no_budget", "too_small", "student", "b2c", "no_need", "bad_timing"]

# Each kind of user takes the next free account: stakeholder1, stakeholder2, …
_numbers: dict[str, itertools.count[int]] = {}


class Member(HttpUser):
    abstract = True
    kind = ""

    def on_start(self) -> None:
        number = next(_numbers.setdefault(self.kind, itertools.count(1)))
        self.username = f"{self.kind}{number}"
        self.number = number
        self.client.get("/accounts/login/", name="log in (page)")
        response = self.client.post(
            "/accounts/login/",
            {"username": self.username, "password": PASSWORD, **self._csrf()},
            name="log in",
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise RuntimeError(f"{self.username} could not log in: {response.status_code}")

    def _csrf(self) -> dict[str, str]:
        return {"csrfmiddlewaretoken": self.client.cookies.get("csrftoken") or ""}

    def post(self, url: str, data: Any, name: str, **kwargs: Any) -> Any:
        headers = {"X-CSRFToken": self.client.cookies.get("csrftoken", "")}
        headers.update(kwargs.pop("headers", {}))
        return self.client.post(url, data, name=name, headers=headers, **kwargs)


class Stakeholder(Member):
    """Has the proposal page open: htmx polls its live part every 3 s. Now and then
    reloads it or opens the workshop or the leads, and every VOTE_MINUTES on average
    (at random) votes or changes their vote: with the default of 15 minutes and 50
    stakeholders, a vote every 18 s somewhere in the room."""

    kind = "stakeholder"
    fixed_count = 50
    wait_time = between(2.5, 3.5)

    live = f"{W}/proposals/{PROPOSAL}/live/"

    def on_start(self) -> None:
        super().on_start()
        self.vote_at = time.monotonic() + random.expovariate(1 / (VOTE_MINUTES * 60))

    @task(80)
    def poll(self) -> None:
        if time.monotonic() >= self.vote_at:
            self.vote_at = time.monotonic() + random.expovariate(1 / (VOTE_MINUTES * 60))
            self.vote()
            return
        # As htmx does: the URL carries the versions of what the page shows, and the
        # server answers 204 while nothing changed.
        self._follow(self.client.get(self.live, headers=HTMX, name="proposal live poll"))

    @task(8)
    def proposal(self) -> None:
        self._follow(self.client.get(f"{W}/proposals/{PROPOSAL}/", name="proposal page"))

    def _follow(self, response: Any) -> None:
        found = re.search(r'hx-get="([^"]*/live/\?v=[^"]*)"', response.text or "")
        if found:
            self.live = found.group(1).replace("&amp;", "&")

    @task(4)
    def home(self) -> None:
        self.client.get(f"{W}/", name="workshop home")

    @task(4)
    def leads(self) -> None:
        query = random.choice(
            ["", "?q=acme", "?field=industry&value=manufacturing", "?sort=revenue", "?page=20"]
        )
        self.client.get(f"{W}/leads/{query}", name="lead list")

    def vote(self) -> None:
        self.post(
            f"{W}/proposals/{PROPOSAL}/vote/",
            {"choice": random.choice(["agree", "disagree", "abstain"]), "reason": "Load."},
            name="vote",
            allow_redirects=False,
        )


class Rep(Member):
    """Works through the triage queue: reads a card for a few seconds, gives a
    verdict (through htmx, as the keyboard does), sometimes opens the lead."""

    kind = "rep"
    fixed_count = 20
    wait_time = between(2, 4)

    def on_start(self) -> None:
        super().on_start()
        self.cards: list[str] = []

    @task(6)
    def verdict(self) -> None:
        if not self.cards:
            page = self.client.get(f"{W}/feedback/?page={random.randint(1, 50)}", name="queue")
            self.cards = re.findall(r'id="card-(\d+)"', page.text)
            random.shuffle(self.cards)
            if not self.cards:
                return
        lead = self.cards.pop()
        verdict = {"verdict": "good"}
        if random.random() < 0.4:
            verdict = {"verdict": "not_lead", "reason": random.choice(REASONS)}
        self.post(
            f"{W}/feedback/{lead}/verdict/",
            verdict,
            name="verdict",
            headers=HTMX,
        )

    @task(1)
    def lead(self) -> None:
        if self.cards:
            self.client.get(f"{W}/leads/{self.cards[-1]}/", name="lead page")

    @task(1)
    def accuracy(self) -> None:
        self.client.get(f"{W}/accuracy/", name="accuracy")


class Admin(Member):
    """Imports a CSV of new and changed leads: upload, confirm the saved mapping,
    watch the progress bar until the worker is done, then again a while later."""

    kind = "admin"
    fixed_count = 5
    wait_time = between(20, 40)

    @task
    def import_file(self) -> None:
        files = sorted(CSV_DIR.glob(f"admin{self.number}-*.csv"))
        if not files:
            raise RuntimeError(f"No CSV for {self.username} in {CSV_DIR}: run load_prepare.")
        with files[0].open("rb") as handle:
            upload = self.post(
                f"{W}/imports/",
                {"kind": "leads"},
                files={"file": (files[0].name, handle, "text/csv")},
                name="import upload",
                allow_redirects=False,
            )
        if upload.status_code != 302:
            return
        mapping_url = upload.headers["Location"]
        page = self.client.get(mapping_url, name="import mapping page")
        data = as_post(form_data(page.text, "mapping-form"), **self._csrf())
        started = self.post(mapping_url, data, name="import start", allow_redirects=False)
        if started.status_code != 302:
            return
        detail = started.headers["Location"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            self.wait_a_second()
            part = self.client.get(detail, headers=HTMX, name="import progress poll")
            if 'hx-trigger="every 1s"' not in part.text:
                break

    def wait_a_second(self) -> None:
        import gevent

        gevent.sleep(1)
