"""The outcome function, table-driven. No database."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from definitions.deliberation.consensus import Ballot, Failure, Policy, decide, tally_by_department

M, S, L = "marketing", "sales", "leadership"


def ballots(*pairs: str) -> list[Ballot]:
    """'agree:sales' -> Ballot('agree', 'sales')."""
    return [Ballot(choice, department) for choice, department in (p.split(":") for p in pairs)]


DEFAULT = Policy()
STRICT = Policy(quorum_percent=75, required_departments=(M, S, L), majority_percent=67)

CASES = [
    # (name, policy, ballots, eligible, accepted, failures)
    ("unanimous", DEFAULT, ballots("agree:marketing", "agree:sales"), 2, True, []),
    ("no votes at all", DEFAULT, [], 4, False, [Failure.QUORUM, Failure.MAJORITY]),
    ("nobody may vote", DEFAULT, [], 0, False, [Failure.NO_ELIGIBLE_VOTERS, Failure.MAJORITY]),
    ("quorum exactly met", DEFAULT, ballots("agree:sales", "agree:sales"), 4, True, []),
    ("quorum missed by one", DEFAULT, ballots("agree:sales"), 3, False, [Failure.QUORUM]),
    ("abstentions count for quorum", DEFAULT, ballots("agree:sales", "abstain:sales"), 4, True, []),
    (
        "tie is no majority",
        DEFAULT,
        ballots("agree:sales", "disagree:sales"),
        2,
        False,
        [Failure.MAJORITY],
    ),
    (
        "only abstentions",
        DEFAULT,
        ballots("abstain:sales", "abstain:sales"),
        2,
        False,
        [Failure.MAJORITY],
    ),
    (
        "a standing block vetoes",
        DEFAULT,
        ballots("agree:sales", "agree:sales", "block:marketing"),
        3,
        False,
        [Failure.BLOCKED],
    ),
    (
        "a block without veto is only a vote",
        Policy(block_vetoes=False),
        ballots("agree:sales", "agree:sales", "block:marketing"),
        3,
        True,
        [],
    ),
    (
        "a required department without agree",
        STRICT,
        ballots("agree:marketing", "agree:sales", "agree:sales", "disagree:leadership"),
        4,
        False,
        [Failure.DEPARTMENT],
    ),
    (
        "all required departments agree",
        STRICT,
        ballots("agree:marketing", "agree:sales", "agree:leadership"),
        4,
        True,
        [],
    ),
    (
        "four agree of six is not more than 67 %",
        STRICT,
        ballots(
            "agree:marketing",
            "agree:sales",
            "agree:leadership",
            "disagree:sales",
            "agree:sales",
            "disagree:marketing",
        ),
        6,
        False,
        [Failure.MAJORITY],
    ),
    (
        "everything fails at once",
        STRICT,
        ballots("block:sales"),
        10,
        False,
        [
            Failure.QUORUM,
            Failure.DEPARTMENT,
            Failure.DEPARTMENT,
            Failure.DEPARTMENT,
            Failure.MAJORITY,
            Failure.BLOCKED,
        ],
    ),
]


@pytest.mark.parametrize(
    ("name", "policy", "votes", "eligible", "accepted", "failures"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_the_outcome_follows_every_rule_of_the_policy(
    name: str,
    policy: Policy,
    votes: list[Ballot],
    eligible: int,
    accepted: bool,
    failures: list[Failure],
) -> None:
    outcome = decide(policy, votes, eligible)
    assert outcome.accepted is accepted
    assert [r.failure for r in outcome.reasons] == failures


def test_a_missing_department_is_named_in_the_reason() -> None:
    outcome = decide(STRICT, ballots("agree:marketing", "agree:sales"), 2)
    assert [r.department for r in outcome.reasons if r.failure == Failure.DEPARTMENT] == [L]


def test_participation_and_agree_share_never_divide_by_zero() -> None:
    outcome = decide(DEFAULT, [], 0)
    assert (outcome.participation_percent, outcome.agree_percent) == (0.0, 0.0)


def test_the_tally_is_counted_per_department() -> None:
    tally = tally_by_department(ballots("agree:sales", "block:sales", "agree:marketing"))
    assert tally[S] == {"agree": 1, "abstain": 0, "disagree": 0, "block": 1}
    assert tally[M]["agree"] == 1


def test_the_consensus_module_imports_nothing_from_django() -> None:
    source = Path(__file__).resolve().parents[3] / "definitions" / "deliberation" / "consensus.py"
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported <= {"__future__", "collections", "dataclasses", "enum"}
