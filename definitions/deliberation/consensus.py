"""The outcome of a vote: one pure function, no Django, table-tested.

A proposal is accepted only when every rule of the workshop's policy holds:
- quorum: at least `quorum_percent` % of the eligible voters voted (abstentions count
  as having voted: they took part);
- each required department has at least one "agree";
- majority: "agree" is MORE than `majority_percent` % of agree + disagree
  (abstain and block are not part of this share);
- no standing block, when the policy gives blocks a veto.
Every rule that fails is reported, so the outcome statement says exactly why.

Only confirmed ballots count: a vote cast on an earlier text of the proposal (before an
accepted amendment or a rebase) waits for its voter to confirm or change it, and is
reported apart (``Outcome.earlier``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

AGREE, ABSTAIN, DISAGREE, BLOCK = "agree", "abstain", "disagree", "block"
CHOICES = (AGREE, ABSTAIN, DISAGREE, BLOCK)


@dataclass(frozen=True)
class Policy:
    quorum_percent: int = 50
    required_departments: tuple[str, ...] = ()
    majority_percent: int = 50
    block_vetoes: bool = True


@dataclass(frozen=True)
class Ballot:
    choice: str
    department: str
    # False: cast on an earlier text and not confirmed since.
    current: bool = True


class Failure(StrEnum):
    NO_ELIGIBLE_VOTERS = "no_eligible_voters"
    QUORUM = "quorum"
    DEPARTMENT = "department"
    MAJORITY = "majority"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Reason:
    failure: Failure
    department: str = ""


@dataclass(frozen=True)
class Outcome:
    accepted: bool
    reasons: tuple[Reason, ...]
    counts: dict[str, int]
    voted: int
    eligible: int
    earlier: int = 0  # ballots cast on an earlier text, not counted

    @property
    def participation_percent(self) -> float:
        return 100.0 * self.voted / self.eligible if self.eligible else 0.0

    @property
    def agree_percent(self) -> float:
        decided = self.counts[AGREE] + self.counts[DISAGREE]
        return 100.0 * self.counts[AGREE] / decided if decided else 0.0


def decide(policy: Policy, ballots: Iterable[Ballot], eligible: int) -> Outcome:
    everything = list(ballots)
    ballots = [b for b in everything if b.current]
    counts = Counter(b.choice for b in ballots)
    tally = {choice: counts.get(choice, 0) for choice in CHOICES}
    voted = len(ballots)
    reasons: list[Reason] = []
    if eligible <= 0:
        reasons.append(Reason(Failure.NO_ELIGIBLE_VOTERS))
    # Integer arithmetic: "voted / eligible >= q %" without float rounding at the edge.
    elif voted * 100 < policy.quorum_percent * eligible:
        reasons.append(Reason(Failure.QUORUM))
    agreeing = {b.department for b in ballots if b.choice == AGREE}
    for department in policy.required_departments:
        if department not in agreeing:
            reasons.append(Reason(Failure.DEPARTMENT, department))
    decided = tally[AGREE] + tally[DISAGREE]
    if tally[AGREE] * 100 <= policy.majority_percent * decided or decided == 0:
        reasons.append(Reason(Failure.MAJORITY))
    if policy.block_vetoes and tally[BLOCK] > 0:
        reasons.append(Reason(Failure.BLOCKED))
    return Outcome(
        accepted=not reasons,
        reasons=tuple(reasons),
        counts=tally,
        voted=voted,
        eligible=eligible,
        earlier=len(everything) - voted,
    )


def tally_by_department(ballots: Iterable[Ballot]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for ballot in ballots:
        row = out.setdefault(ballot.department, {choice: 0 for choice in CHOICES})
        row[ballot.choice] = row.get(ballot.choice, 0) + 1
    return out
