from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.catalog import services as catalog_services
from definitions.deliberation import services as deliberation_services
from definitions.models import Workshop
from definitions.roles import Department, Role
from definitions.versions import services as version_services
from definitions.workshops import services as workshop_services
from feedback.backtests import services as backtest_services
from feedback.backtests.selectors import latest_done_run
from feedback.bench.data import HEADER, load_generated, mapping, write_csv
from feedback.imports.mapping import header_signature
from feedback.models import ImportMapping, LeadFeedback, LeadResult, Reason
from feedback.verdicts import tallies

SLUG = "load"
PASSWORD = "load-test-password"  # noqa: S105  (loopback load test users only)


# The tables a load test and its preparation write to.
LOAD_TABLES = (
    "feedback_lead",
    "feedback_leadresult",
    "feedback_leadactivity",
    "feedback_leadfeedback",
    "definitions_vote",
    "definitions_comment",
    "feedback_importjob",
)


class Command(BaseCommand):
    help = (
        "Prepare the load test (scripts/loadtest.sh): the workshop 'load' with --leads "
        "generated leads, the worked example published and backtested, a proposal open "
        "for a vote and backtested, and the users the scenario logs in as: stakeholder1…N, "
        "rep1…N, admin1…N, all with the password load-test-password. Also writes each "
        "admin's small CSV for the import part of the scenario. Re-running it keeps the "
        "leads and refreshes the rest. Prints a JSON summary as its last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leads", type=int, default=1_000_000)
        parser.add_argument("--events", type=int, default=2_000_000)
        parser.add_argument("--stakeholders", type=int, default=50)
        parser.add_argument("--reps", type=int, default=20)
        parser.add_argument("--admins", type=int, default=5)
        parser.add_argument("--csv-rows", type=int, default=500)
        parser.add_argument(
            "--verdicts",
            type=int,
            default=20_000,
            help="reps' verdicts already given (a year of triage by 20 reps): pages that "
            "count verdicts must be measured with a history, not on an empty one",
        )
        parser.add_argument("--out", default="var/load", help="folder for the admins' CSVs")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("The load test runs on PostgreSQL (set DATABASE_URL).")
        started = time.perf_counter()
        users = self._users(options)
        owner = users["admin"][0]
        workshop = Workshop.objects.filter(slug=SLUG).first()
        if workshop is None:
            workshop = workshop_services.workshop_create(
                actor=owner, name="Load test", slug=SLUG, department=Department.MARKETING
            )
        self._members(workshop, owner, users)
        leads = workshop.leads.count()
        if leads < options["leads"]:
            self.stderr.write(f"Generating {options['leads']:,} leads …")
            workshop.leads.all().delete()
            leads, _events = load_generated(workshop.pk, options["leads"], options["events"])
        version, proposal = self._definition(workshop, owner, users)
        for target in ({"version": version}, {"proposal": proposal}):
            run = backtest_services.backtest_start(
                actor=owner, workshop=workshop, enqueue=False, **target
            )
            if run.state != "done":
                self.stderr.write(f"Backtesting {target} over {leads:,} leads …")
                backtest_services.backtest_run_inline(run)
        verdicts = self._verdicts(workshop, version, users["rep"], options["verdicts"])
        csvs = self._csvs(workshop, options)
        self._settle()
        self.stdout.write(
            json.dumps(
                {
                    "workshop": SLUG,
                    "leads": leads,
                    "proposal": proposal.pk,
                    "verdicts": verdicts,
                    "password": PASSWORD,
                    "users": {kind: len(members) for kind, members in users.items()},
                    "csv": [str(p) for p in csvs],
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
        )

    def _settle(self) -> None:
        """Start the measured minutes from a settled database: the backtests above
        replace a million results, and the earlier run's imports leave dead rows. An
        autovacuum or checkpoint cleaning up after them mid-test would be measured as
        the app's latency (it was: p95 varied by 2x from one run to the next)."""
        self.stderr.write("Vacuuming and checkpointing …")
        with connection.cursor() as cursor:
            for table in LOAD_TABLES:
                cursor.execute(f"VACUUM (ANALYZE) {table}")
            cursor.execute("CHECKPOINT")

    def _users(self, options: dict[str, Any]) -> dict[str, list[Any]]:
        # One Argon2 hash for all: hashing is slow on purpose, 75 times would take long.
        encoded = make_password(PASSWORD)
        model = get_user_model()
        users: dict[str, list[Any]] = {}
        for kind, count in (
            ("admin", options["admins"]),
            ("stakeholder", options["stakeholders"]),
            ("rep", options["reps"]),
        ):
            users[kind] = []
            for n in range(1, count + 1):
                user, _created = model.objects.update_or_create(
                    username=f"{kind}{n}", defaults={"password": encoded}
                )
                users[kind].append(user)
        return users

    def _members(self, workshop: Workshop, owner: Any, users: dict[str, list[Any]]) -> None:
        departments = [Department.MARKETING, Department.SALES, Department.LEADERSHIP]
        roles = {"admin": Role.ADMIN, "stakeholder": Role.STAKEHOLDER, "rep": Role.SALES_REP}
        present = set(workshop.memberships.values_list("user_id", flat=True))
        for kind, members in users.items():
            for n, user in enumerate(members):
                if user.pk in present:
                    continue
                department = Department.SALES if kind == "rep" else departments[n % 3]
                workshop_services.member_add(
                    actor=owner,
                    workshop=workshop,
                    user=user,
                    role=roles[kind],
                    department=department,
                )

    @transaction.atomic
    def _definition(self, workshop: Workshop, owner: Any, users: dict[str, list[Any]]) -> Any:
        version = workshop.versions.order_by("-number").first()
        if version is None:
            version = version_services.version_publish_document(
                actor=owner, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
            )
        proposal = workshop.proposals.filter(state="open").order_by("pk").first()
        if proposal is None:
            deliberation_services.policy_update(
                actor=owner,
                workshop=workshop,
                quorum_percent=60,
                required_departments=["marketing", "sales"],
                majority_percent=50,
                block_vetoes=True,
                default_voting_days=7,
            )
            author = users["stakeholder"][1]
            proposal = authoring_services.proposal_create(
                actor=author,
                workshop=workshop,
                title="Sales-leaning: BANT before handover",
                document=rules.SALES_LEANING_EXAMPLE,
                parent=version,
            )
            proposal = deliberation_services.proposal_open(
                actor=author,
                proposal=proposal,
                closes_at=timezone.now() + timedelta(days=30),
                rationale="Ask for **BANT** before handover.",
            )
            for n, stakeholder in enumerate(users["stakeholder"][:20]):
                deliberation_services.vote_cast(
                    actor=stakeholder,
                    proposal=proposal,
                    choice="agree" if n % 3 else "disagree",
                    reason=f"Position {n}.",
                )
                deliberation_services.comment_add(
                    actor=stakeholder, proposal=proposal, body=f"Comment {n} on the **floor**."
                )
        return version, proposal

    def _verdicts(self, workshop: Workshop, version: Any, reps: list[Any], wanted: int) -> int:
        """Top the workshop's verdicts up to ``wanted``: the reps' history, on the oldest
        leads the published version qualified, given over the past year (three in five
        good, the rest not a lead with a reason). Written as one statement, around the
        services, so the verdict tallies are counted afresh after it. Returns how many
        verdicts the workshop has."""
        have = LeadFeedback.objects.filter(workshop=workshop, superseded_at__isnull=True).count()
        run = latest_done_run(workshop, version=version)
        if have < wanted and run is not None:
            self.stderr.write(f"Giving {wanted - have:,} verdicts …")
            reasons = [code for code in Reason.values if code != Reason.OTHER]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {LeadFeedback._meta.db_table} (workshop_id, lead_id, rep_id,"  # noqa: S608
                    "  verdict, reason, note, version_id, qualified, stage, score, created_at)"
                    " SELECT %(workshop)s, r.lead_id,"
                    "  (%(reps)s::bigint[])[1 + r.lead_id %% %(n_reps)s],"
                    "  CASE WHEN r.lead_id %% 5 < 3 THEN 'good' ELSE 'not_lead' END,"
                    "  CASE WHEN r.lead_id %% 5 < 3 THEN ''"
                    "   ELSE (%(reasons)s::text[])[1 + r.lead_id %% %(n_reasons)s] END,"
                    "  '', %(version)s, r.qualified, r.stage, r.score,"
                    "  now() - interval '1 day' * (r.lead_id %% 365)"
                    f" FROM {LeadResult._meta.db_table} r"
                    " WHERE r.run_id = %(run)s AND r.qualified AND NOT EXISTS ("
                    f"  SELECT 1 FROM {LeadFeedback._meta.db_table} f WHERE f.lead_id = r.lead_id)"
                    " ORDER BY r.lead_id LIMIT %(missing)s",
                    {
                        "workshop": workshop.pk,
                        "reps": [rep.pk for rep in reps],
                        "n_reps": len(reps),
                        "reasons": reasons,
                        "n_reasons": len(reasons),
                        "version": version.pk,
                        "run": run.pk,
                        "missing": wanted - have,
                    },
                )
                tallies.tally_workshop(workshop.pk)
        return LeadFeedback.objects.filter(workshop=workshop, superseded_at__isnull=True).count()

    def _csvs(self, workshop: Workshop, options: dict[str, Any]) -> list[Path]:
        """One small file per admin, with its own ids, and the saved mapping that the
        import page offers for their header (as it would after a first import)."""

        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for n in range(1, options["admins"] + 1):
            path = out / f"admin{n}-{options['csv_rows']}.csv"
            if not path.exists():
                write_csv(path, options["csv_rows"], seed=1000 + n, id_prefix=f"L{n}-")
            paths.append(path.resolve())
        if not workshop.custom_fields.filter(key="total_visits").exists():
            spec = mapping()["columns"]["Total Visits"]
            catalog_services.custom_field_add(
                actor=get_user_model().objects.get(username="admin1"),
                workshop=workshop,
                key=spec["key"],
                label=spec["label"],
                type=spec["type"],
                category=spec["category"],
            )
        ImportMapping.objects.update_or_create(
            workshop=workshop, signature=header_signature(HEADER), defaults={"mapping": mapping()}
        )
        return paths
