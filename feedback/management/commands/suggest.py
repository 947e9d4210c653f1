"""manage.py suggest: discovery from the command line, for people and for automation
(the last line is always one JSON object; docs/suggestions.md)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from definitions import roles
from definitions.models import Membership
from feedback.suggestions.discovery import discover
from feedback.suggestions.services import chosen_suggestions, combined_changes, suggestions_apply
from feedback.suggestions.types import OBJECTIVES, TARGETS, Figures, Goal, GoalError

from ._version_command import VersionCommand


def _brief(figures: Figures | None) -> dict[str, float] | None:
    if figures is None:
        return None
    return {
        "precision": round(figures.precision, 4),
        "recall": round(figures.recall, 4),
        "f1": round(figures.f1, 4),
    }


class Command(VersionCommand):
    help = (
        "Find changes that make a version better on leads it did not learn from. The last "
        'line is JSON: {"version", "objective", "suggestions": [{"key", "kind", "title", '
        '"validation": {"before", "after"}}]}; with --apply, a proposal draft is created '
        'and the last line is {"draft", "applied", "validation"}. Exit 2 on bad input.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--objective", choices=OBJECTIVES, default="f1")
        parser.add_argument("--min-recall", type=float, default=0.5)
        parser.add_argument("--min-precision", type=float, default=0.5)
        parser.add_argument("--capacity", type=int, help="leads a week sales can take")
        parser.add_argument("--target", choices=TARGETS, default="outcome")
        parser.add_argument("--apply", help="recommended, or KEY[,KEY...]")
        parser.add_argument("--author", help="username the draft is written by (default: an admin)")
        parser.add_argument("--json", action="store_true", help="print only the JSON line")

    def handle(self, *args: Any, **options: Any) -> None:
        workshop, version = self.workshop_and_version(options)
        try:
            goal = Goal(
                objective=options["objective"],
                target=options["target"],
                min_recall=options["min_recall"],
                min_precision=options["min_precision"],
                capacity=options["capacity"],
            )
        except GoalError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        keys = [k.strip() for k in (options["apply"] or "").split(",") if k.strip()]
        if options["apply"] is not None and not keys:
            raise CommandError("--apply needs recommended or suggestion keys.", returncode=2)
        author = self._author(workshop, options["author"]) if keys else None
        discovery = discover(workshop, version, goal)
        shown = ([discovery.recommended] if discovery.recommended else []) + list(
            discovery.suggestions
        )
        if not options["json"]:
            self._describe(discovery, shown)
        if not keys:
            self.stdout.write(
                json.dumps(
                    {
                        "version": version.number,
                        "objective": goal.objective,
                        "candidates": discovery.candidates,
                        "suggestions": [
                            {
                                "key": s.key,
                                "kind": s.kind,
                                "title": s.title,
                                "validation": {
                                    "before": _brief(s.before),
                                    "after": _brief(s.after),
                                },
                            }
                            for s in shown
                        ],
                    }
                )
            )
            return
        try:
            chosen = chosen_suggestions(discovery, keys)
            proposal = suggestions_apply(
                actor=author, workshop=workshop, version=version, discovery=discovery, keys=keys
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages), returncode=2) from exc
        after = (
            chosen[0].after
            if len(chosen) == 1
            else (discovery.measure(combined_changes(chosen)) if discovery.measure else None)
        )
        self.stdout.write(
            json.dumps(
                {
                    "draft": proposal.pk,
                    "applied": [s.key for s in chosen],
                    "validation": {"before": _brief(discovery.before), "after": _brief(after)},
                }
            )
        )

    def _author(self, workshop: Any, username: str | None) -> Any:
        members = Membership.objects.filter(workshop=workshop).select_related("user")
        if username:
            membership = members.filter(user__username=username).first()
            if membership is None:
                raise CommandError(f"{username!r} is not a member of this workshop.", returncode=2)
            if roles.PROPOSE not in roles.ROLE_PERMISSIONS.get(membership.role, frozenset()):
                raise CommandError(f"{username!r} may not propose changes.", returncode=2)
            return membership.user
        admin = members.filter(role=roles.Role.ADMIN).order_by("id").first()
        if admin is None:
            raise CommandError(
                "The workshop has no admin to write the draft; use --author.", returncode=2
            )
        return admin.user

    def _describe(self, discovery: Any, shown: list[Any]) -> None:
        write = self.stdout.write
        write(
            f"Learned from {discovery.learning} leads, measured on {discovery.validation} "
            f"others ({discovery.candidates} candidate criteria, {discovery.seconds:.1f} s)."
        )
        for leak in discovery.leaks:
            write(f"Left out {leak.field}: {leak.detail}")
        if not shown:
            write(discovery.empty_reason)
        for s in shown:
            write(
                f"[{s.key}] {s.title}: F1 {s.before.f1:.3f} -> {s.after.f1:.3f}, "
                f"precision {s.before.precision:.3f} -> {s.after.precision:.3f}, "
                f"recall {s.before.recall:.3f} -> {s.after.recall:.3f}"
            )
