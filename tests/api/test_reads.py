"""Reads for integrations: versions, proposals and accuracy, each scoped to the key's
workshop (another workshop's are 404, never shown)."""

from __future__ import annotations

from typing import Any

import pytest

from definitions import rules
from definitions.deliberation import services as deliberation_services
from definitions.models import Workshop
from definitions.versions import services as version_services
from feedback.backtests import services as backtest_services
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from tests.api.conftest import Api
from tests.factories import open_for_vote

pytestmark = pytest.mark.django_db


def test_versions_are_listed_newest_first_and_read_with_their_document(
    admin: Any, workshop: Workshop, acme: Api, other: Api
) -> None:
    for note in ("first", "second"):
        version_services.version_publish_document(
            actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None, note=note
        )
    listing = acme.get("/versions")
    assert listing.status_code == 200
    assert [(v["number"], v["note"]) for v in listing.json()] == [(2, "second"), (1, "first")]
    assert listing.json()[0]["url"] == "http://127.0.0.1:8000/w/acme/versions/2/"
    assert listing.json()[0]["published_by"] == "admin"
    assert [v["number"] for v in acme.get("/versions?limit=1").json()] == [2]
    assert acme.get("/versions?limit=0").status_code == 422
    one = acme.get("/versions/1").json()
    assert one["number"] == 1 and one["parent"] is None
    assert one["document"] == workshop.versions.get(number=1).document
    missing = acme.get("/versions/9")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "No version with this number in this workshop."
    # Another workshop's key sees none of them.
    assert other.get("/versions").json() == []
    assert other.get("/versions/1").status_code == 404


def test_proposals_are_listed_without_drafts_and_read_with_their_votes(
    admin: Any, marketer: Any, workshop: Workshop, acme: Api, other: Api
) -> None:
    proposal = open_for_vote(admin, workshop, title="Stricter BANT")
    deliberation_services.vote_cast(actor=admin, proposal=proposal, choice="agree")
    deliberation_services.vote_cast(
        actor=marketer, proposal=proposal, choice="disagree", reason="Too strict."
    )
    listing = acme.get("/proposals").json()
    assert [(p["id"], p["title"], p["state"]) for p in listing] == [
        (proposal.pk, "Stricter BANT", "open")
    ]
    assert listing[0]["parent"] == 1 and listing[0]["closes_at"]
    assert acme.get("/proposals?state=accepted").json() == []
    assert acme.get("/proposals?state=draft").status_code == 422
    detail = acme.get(f"/proposals/{proposal.pk}").json()
    assert detail["votes"] == {"agree": 1, "disagree": 1}
    assert detail["rationale"] == "r"
    assert detail["url"] == f"http://127.0.0.1:8000/w/acme/proposals/{proposal.pk}/"
    assert other.get(f"/proposals/{proposal.pk}").status_code == 404
    assert other.get("/proposals").json() == []


def test_accuracy_is_read_for_the_current_or_a_given_version(
    admin: Any, workshop: Workshop, acme: Api, other: Api, django_capture_on_commit_callbacks: Any
) -> None:
    assert acme.get("/accuracy").status_code == 404  # no version yet
    version = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    none_yet = acme.get("/accuracy")
    assert none_yet.status_code == 404
    assert none_yet.json()["detail"] == "This version has no finished backtest yet."
    leads_insert_generated(workshop=workshop, leads=generate(60, seed=4))
    run = backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=version, enqueue=False
    )
    backtest_services.backtest_run_inline(run)
    body = acme.get("/accuracy").json()
    assert body["version"] == 1 and body["run"] == run.pk and body["leads"] == 60
    assert body["handoff"] == workshop.handoff_stage
    assert set(body["cuts"]) == {"qualified", "mql", "sql"}
    outcomes = body["outcomes"]
    assert outcomes["tp"] + outcomes["fp"] + outcomes["fn"] + outcomes["tn"] == outcomes["n"]
    assert body == acme.get("/accuracy?version=1").json()
    assert acme.get("/accuracy?version=2").status_code == 404
    assert other.get("/accuracy?version=1").status_code == 404


def test_reads_need_a_key(workshop: Workshop) -> None:
    for path in ("/versions", "/versions/1", "/proposals", "/proposals/1", "/accuracy"):
        assert Api(None).get(path).status_code == 401, path
        assert Api("lw_nope_nope").get(path).status_code == 401, path
