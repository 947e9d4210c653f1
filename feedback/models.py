from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """The last time each background worker proved it can reach the database.

    Backtests and imports run in the worker; the UI warns when none has reported
    recently, instead of leaving a progress bar that never moves.
    """

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.hostname} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class Lead(models.Model):
    """A historical (or live) lead of one workshop.

    Built-in catalog fields are real columns named exactly like their catalog keys
    (definitions.rules.catalog.BUILTIN_FIELDS), so the backtest compiler can address
    them directly; custom fields live in `custom`. A missing value is NULL, never ""
    (a definition's "is not set" means NULL, as in the reference evaluator).
    """

    # No index of its own: every index below starts with the workshop, and each one
    # more costs every import of a million rows seconds.
    workshop = models.ForeignKey(
        "definitions.Workshop", on_delete=models.CASCADE, related_name="leads", db_index=False
    )
    external_id = models.CharField(max_length=200)
    name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)
    # Lower-cased name, e-mail and company: what the lead list searches.
    search_text = models.TextField(blank=True, editable=False)

    source = models.CharField(max_length=64, null=True, blank=True)
    channel = models.CharField(max_length=64, null=True, blank=True)
    company = models.CharField(max_length=300, null=True, blank=True)
    industry = models.CharField(max_length=200, null=True, blank=True)
    country = models.CharField(max_length=100, null=True, blank=True)
    region = models.CharField(max_length=200, null=True, blank=True)
    employees = models.FloatField(null=True, blank=True)
    annual_revenue = models.FloatField(null=True, blank=True)
    email_domain = models.CharField(max_length=254, null=True, blank=True)
    job_title = models.CharField(max_length=300, null=True, blank=True)
    seniority = models.CharField(max_length=64, null=True, blank=True)
    email_domain_kind = models.CharField(max_length=64, null=True, blank=True)
    budget = models.CharField(max_length=64, null=True, blank=True)
    authority = models.CharField(max_length=64, null=True, blank=True)
    need = models.CharField(max_length=64, null=True, blank=True)
    timeline_days = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    reached_stage = models.CharField(max_length=64, null=True, blank=True)
    converted = models.BooleanField(null=True, blank=True)
    deal_value = models.FloatField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    custom = models.JSONField(default=dict, blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workshop", "external_id"], name="lead_external_id_unique"
            )
        ]
        # One per sort of the lead list (feedback.leads.selectors.SORTS), in its exact order,
        # so a page of a million leads is an index range, not a sort. The two that
        # sort leads without a value last are created by migration 0005 in each
        # database's own syntax (SQLite has no NULLS LAST in an index).
        indexes = [
            models.Index(fields=["workshop", "-id"], name="lead_workshop_recent"),
            models.Index(fields=["workshop", "company", "id"], name="lead_workshop_company"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.external_id


class LeadActivity(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        # One event of a kind at one instant: re-importing the same activities file
        # adds nothing.
        constraints = [
            models.UniqueConstraint(fields=["lead", "kind", "at"], name="activity_unique")
        ]
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class ImportState(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded, waiting for the mapping")
    QUEUED = "queued", _("Waiting for the worker")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLING = "cancelling", _("Cancelling")
    CANCELLED = "cancelled", _("Cancelled")


class ImportKind(models.TextChoices):
    LEADS = "leads", _("Leads")
    ACTIVITIES = "activities", _("Activities")


class ImportJob(models.Model):
    """One uploaded file and its way into the lead table. The counters are written
    while the worker runs, so the progress page survives reloads."""

    workshop = models.ForeignKey(
        "definitions.Workshop", on_delete=models.CASCADE, related_name="imports"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=ImportKind.choices, default=ImportKind.LEADS)
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    encoding = models.CharField(max_length=20)
    delimiter = models.CharField(max_length=2)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=12, choices=ImportState.choices, default=ImportState.UPLOADED
    )
    rows_estimated = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # Progress by bytes read: exact for CSV without counting the rows first.
    bytes_done = models.BigIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    # Rows of leads that already had exactly these values: nothing was written for them.
    unchanged = models.PositiveIntegerField(default=0)
    # Leads whose imported sales verdict this import gave, changed or took back.
    verdicts = models.PositiveIntegerField(default=0)
    # Cells of imported rows that could not be converted and were left empty.
    warnings = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    error_report = models.TextField(blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import {self.pk} of {self.original_name}"


class ImportMapping(models.Model):
    """The last mapping used for a header, re-offered for the next file like it."""

    workshop = models.ForeignKey(
        "definitions.Workshop", on_delete=models.CASCADE, related_name="import_mappings"
    )
    signature = models.CharField(max_length=64)
    mapping = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workshop", "signature"], name="mapping_unique")
        ]

    def __str__(self) -> str:
        return f"mapping {self.signature[:8]}"


class FoldedText(models.Model):
    """str.casefold() of every non-ASCII text a backtest has compared.

    Definitions compare text by Python's full Unicode case folding ("Straße" equals
    "STRASSE"), which no SQL function of PostgreSQL 15 does. ASCII text folds to its
    lower case in SQL; the rare non-ASCII value is looked up here, filled in Python
    before a run starts. The folding is a pure function of the text, so entries never
    go stale and are shared by every workshop.
    """

    raw = models.TextField(primary_key=True)
    folded = models.TextField()

    def __str__(self) -> str:
        return self.raw


class RunState(models.TextChoices):
    QUEUED = "queued", _("Waiting for the worker")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class EvaluationRun(models.Model):
    """One definition (a published version or a proposal's draft) applied to every
    lead of a workshop at the moment ``as_of``.

    Results are written chunk by chunk but only read once the run is done, so a run
    that fails or is cancelled shows nothing half-written.
    """

    workshop = models.ForeignKey(
        "definitions.Workshop", on_delete=models.CASCADE, related_name="runs"
    )
    version = models.ForeignKey(
        "definitions.Version", on_delete=models.CASCADE, null=True, blank=True, related_name="runs"
    )
    proposal = models.ForeignKey(
        "definitions.Proposal",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="runs",
    )
    # The proposal's revision this run evaluated: an edit makes the run out of date.
    proposal_revision = models.PositiveIntegerField(null=True, blank=True)
    # The exact document evaluated, so the run explains itself even after edits.
    document = models.JSONField()
    as_of = models.DateTimeField()
    # The workshop's decision window this run used: each lead was evaluated as of its
    # creation plus this many days (never after as_of). A changed setting makes the
    # run stale. Null: a run from before decision moments, evaluated at as_of.
    decision_days = models.PositiveSmallIntegerField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=RunState.choices, default=RunState.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    leads_total = models.PositiveIntegerField(default=0)
    leads_done = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    # Finished chunks' partial counts, summed when the last one finishes:
    # {"stages": {"sql": 3, ...}, "criteria": {"pp5": 10, ...}} per chunk number.
    chunk_counts = models.JSONField(default=dict, blank=True)
    stage_counts = models.JSONField(default=dict, blank=True)
    criterion_counts = models.JSONField(default=dict, blank=True)
    # Counts against outcomes (feedback.accuracy.selectors), computed once after the
    # run is done: seconds over a million leads, so never while a page waits.
    outcome_stats = models.JSONField(default=dict, blank=True)
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workshop", "version", "-id"], name="run_version_latest"),
            models.Index(fields=["workshop", "proposal", "-id"], name="run_proposal_latest"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in (RunState.QUEUED, RunState.RUNNING)

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class LeadResult(models.Model):
    """What one run said about one lead, and why (the ids of matched criteria)."""

    pk = models.CompositePrimaryKey("run_id", "lead_id")
    # Django deletes these with one DELETE … WHERE (its "fast delete": no signals, no
    # further relations), never by loading the million rows of a run.
    # No index of their own: the primary key (run, lead) serves both the run's pages
    # and "this lead in these runs", and every index more slows every run. No database
    # constraint either: checking a million deferred foreign keys made each chunk's
    # commit take as long as its evaluation. Rows are only written by the run's own
    # statement from leads that exist, and Django's cascade still deletes them with
    # their run or lead.
    run = models.ForeignKey(
        EvaluationRun,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="results", db_index=False, db_constraint=False
    )
    qualified = models.BooleanField()
    junk = models.BooleanField()
    score = models.IntegerField()
    stage = models.CharField(max_length=10)
    # Comma-separated criterion ids (ids never contain commas), in document order.
    matched = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.stage}"

    @property
    def matched_ids(self) -> list[str]:
        return [m for m in self.matched.split(",") if m]


class VerdictTally(models.Model):
    """How many reviewed leads of one finished run have a verdict and reason and are
    qualified or not by the run: in all (``criterion`` blank) and per criterion they
    matched. The accuracy pages' verdict counts.

    Counting them from the verdicts on every view grew with every verdict given, so
    the verdict services keep these rows up to date instead (feedback.verdicts.tallies):
    a run is counted once when it finishes, and each verdict given or taken back moves
    its lead from one group to another in every finished run of the workshop."""

    run = models.ForeignKey(
        EvaluationRun, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    criterion = models.CharField(max_length=64, blank=True)
    verdict = models.CharField(max_length=10)
    reason = models.CharField(max_length=20, blank=True)
    qualified = models.BooleanField()
    # The run's stage of the leads counted ("" in rows from before stages were
    # counted): what the verdicts are measured at the MQL and SQL cuts by.
    stage = models.CharField(max_length=10, blank=True, default="")
    # Which verdicts the row counts (VerdictOrigin, "" for both): each lead counts once
    # per origin, by its newest current verdict of that origin.
    origin = models.CharField(max_length=10, blank=True, default="")
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            # Also the index the run's rows are read through (run first).
            models.UniqueConstraint(
                fields=["run", "criterion", "verdict", "reason", "qualified", "stage", "origin"],
                name="verdict_tally_group",
            )
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.criterion} {self.verdict}/{self.reason}: {self.n}"


class Verdict(models.TextChoices):
    GOOD = "good", _("Good lead")
    NOT_A_LEAD = "not_lead", _("Not a lead")
    MISSED = "missed", _("Missed: rejected, but it was good")


class Reason(models.TextChoices):
    """Why a rep says "not a lead" (DESIGN.md §3), in the order of the keyboard digits."""

    NO_BUDGET = "no_budget", _("No budget")
    NO_AUTHORITY = "no_authority", _("No authority")
    NO_NEED = "no_need", _("No need")
    BAD_TIMING = "bad_timing", _("Bad timing")
    WRONG_INDUSTRY = "wrong_industry", _("Wrong industry")
    TOO_SMALL = "too_small", _("Too small")
    STUDENT = "student", _("Student")
    COMPETITOR = "competitor", _("Competitor")
    B2C = "b2c", _("B2C")
    DUPLICATE = "duplicate", _("Duplicate")
    BAD_CONTACT_DATA = "bad_contact", _("Bad contact data")
    OTHER = "other", _("Other")


class VerdictOrigin(models.TextChoices):
    """Where verdicts come from, as the accuracy pages filter them ("" is both)."""

    APP = "app", _("Given in the app")
    IMPORTED = "imported", _("Imported")


class LeadFeedback(models.Model):
    """A sales rep's verdict on one lead, with what the definition said at that moment.

    A changed verdict is a new row; the one it replaces keeps its text and gets
    ``superseded_at``, so the history stays. Each rep has at most one current verdict
    per lead."""

    workshop = models.ForeignKey(
        "definitions.Workshop", on_delete=models.CASCADE, related_name="feedback"
    )
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="feedback")
    # Protected: a rep's verdicts are the workshop's history, and the verdict tallies
    # count them; deleting the account must not silently take them away.
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="lead_feedback"
    )
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    note = models.TextField(blank=True, max_length=2000)
    # What the definition said when the rep judged: the version and its run's result.
    version = models.ForeignKey(
        "definitions.Version", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    qualified = models.BooleanField(null=True)
    stage = models.CharField(max_length=10, blank=True)
    score = models.IntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    # The verdict this one changed, so undo can bring it back.
    replaces = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A disposition a CRM export or the API brought in (feedback.verdicts.imported):
    # at most one current imported verdict per lead, kept apart from the reps' own.
    imported = models.BooleanField(default=False)
    import_file = models.CharField(max_length=255, blank=True)
    import_column = models.CharField(max_length=200, blank=True)
    import_value = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "rep", "imported"],
                condition=models.Q(superseded_at__isnull=True),
                name="feedback_one_current_per_rep",
            )
        ]
        indexes = [
            models.Index(
                fields=["workshop", "lead"],
                condition=models.Q(superseded_at__isnull=True),
                name="feedback_current",
            )
        ]

    def __str__(self) -> str:
        return f"{self.verdict} on {self.lead_id}"


class DiscoveryRun(models.Model):
    """One run of criterion discovery (feedback.suggestions.discovery) for a version and
    a goal: queued from the suggestions page, run by the worker, its result stored as
    the Discovery's JSON so the page and "turn into a proposal" read the same figures
    the engine measured, without measuring again."""

    workshop = models.ForeignKey(
        "definitions.Workshop", on_delete=models.CASCADE, related_name="discoveries"
    )
    version = models.ForeignKey(
        "definitions.Version", on_delete=models.CASCADE, related_name="discoveries"
    )
    # The goal as discovery.Goal.to_json() writes it (objective, target, bounds).
    goal = models.JSONField(default=dict)
    state = models.CharField(max_length=12, choices=RunState.choices, default=RunState.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    step = models.CharField(max_length=200, blank=True)  # what the worker is doing now
    result = models.JSONField(null=True, blank=True)  # discovery.Discovery.to_json()
    message = models.TextField(blank=True)  # why it failed
    # The workshop's leads_changed_at when the run started: a later import makes it stale.
    leads_changed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workshop", "-id"], name="discovery_latest")]

    def __str__(self) -> str:
        return f"discovery {self.pk} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in (RunState.QUEUED, RunState.RUNNING)


class LeakageClearance(models.Model):
    """An admin's word that a field discovery suspected of leaking the outcome is in
    fact known before it: from then on discovery may use it. Deleting the row puts the
    field back under suspicion."""

    workshop = models.ForeignKey(
        "definitions.Workshop", on_delete=models.CASCADE, related_name="leakage_clearances"
    )
    field = models.CharField(max_length=64)  # a catalog field key
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    cleared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workshop", "field"], name="leakage_clearance_once")
        ]

    def __str__(self) -> str:
        return f"{self.field} cleared in {self.workshop_id}"


class ShadowStop(models.TextChoices):
    # Read after "Stopped: ", hence lower case.
    STOPPED = "stopped", _("stopped by hand")
    PUBLISHED = "published", _("the proposal was published")
    WITHDRAWN = "withdrawn", _("the proposal was withdrawn")
    REJECTED = "rejected", _("the proposal was rejected")
    EXPIRED = "expired", _("its days ran out")


class ShadowRun(models.Model):
    """A proposal's definition run in shadow: every lead arriving while it runs (API,
    import, generator) is classified by it and by the published version at the same
    moment, into ShadowResult, without touching what sales sees.

    It runs while ``stopped_at`` is empty, ``ends_at`` is ahead and the proposal is a
    draft, open or accepted; the housekeeping sweep writes down why it stopped."""

    workshop = models.ForeignKey(
        "definitions.Workshop", on_delete=models.CASCADE, related_name="shadow_runs"
    )
    proposal = models.ForeignKey(
        "definitions.Proposal", on_delete=models.CASCADE, related_name="shadow_runs"
    )
    # The document as it stood when the run started: the evidence stays about one
    # definition even if the proposal is amended meanwhile.
    proposal_revision = models.PositiveIntegerField()
    document = models.JSONField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    started_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=12, choices=ShadowStop.choices, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(
                fields=["workshop"],
                condition=models.Q(stopped_at__isnull=True),
                name="shadow_running",
            )
        ]

    def __str__(self) -> str:
        return f"shadow {self.pk} of proposal {self.proposal_id}"


class ShadowResult(models.Model):
    """What a shadow definition and the published version said about one lead when it
    arrived (the newest arrival wins), and why: the matched criterion ids of each."""

    pk = models.CompositePrimaryKey("shadow_id", "lead_id")
    # Written only by the set-based statement of feedback.shadows.services, from leads
    # that exist; like LeadResult, no foreign-key constraint to check per row.
    shadow = models.ForeignKey(
        ShadowRun, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    classified_at = models.DateTimeField()
    qualified = models.BooleanField()
    junk = models.BooleanField()
    score = models.IntegerField()
    stage = models.CharField(max_length=10)
    matched = models.TextField(blank=True)
    # The published version at that moment (null when the workshop had none).
    version = models.ForeignKey(
        "definitions.Version",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    published_qualified = models.BooleanField(null=True)
    published_score = models.IntegerField(null=True)
    published_stage = models.CharField(max_length=10, blank=True)
    published_matched = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.published_stage} / {self.stage}"


class ShadowProbe(models.Model):
    """One lead judged by the classify endpoint (not stored) while a shadow ran: the
    published version's stage and the shadow's, at the same moment."""

    shadow = models.ForeignKey(ShadowRun, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    published_stage = models.CharField(max_length=10, blank=True)
    stage = models.CharField(max_length=10)

    def __str__(self) -> str:
        return f"probe {self.pk}: {self.published_stage} / {self.stage}"


class VersionReview(models.Model):
    """What the vote on a published version was promised (its backtest at the handoff
    stage when it was published, as counts) and what happened on the leads decided
    since it went live (counted by feedback.reviews.services, set-based)."""

    version = models.OneToOneField(
        "definitions.Version", on_delete=models.CASCADE, related_name="review"
    )
    workshop = models.ForeignKey(
        "definitions.Workshop", on_delete=models.CASCADE, related_name="version_reviews"
    )
    # {"run": id, "as_of": iso, "handoff": cut, "leads": n, "outcomes": {tp, fp, fn, tn},
    #  "verdicts": {…}}; empty when nothing was backtested before publishing.
    promise = models.JSONField(default=dict, blank=True)
    # {"run": id, "handoff": cut, "since": iso, "until": iso or null,
    #  "outcomes": {tp, fp, fn, tn}, "verdicts": {…}}; empty until first counted.
    observed = models.JSONField(default=dict, blank=True)
    # Leads that arrived while the version was live and have an outcome or a verdict.
    decided = models.PositiveIntegerField(default=0)
    # An observed F1 outside the promised interval (with enough decided leads).
    drift = models.BooleanField(default=False)
    computed_at = models.DateTimeField(null=True, blank=True)
    # Members are told once, when the version first has enough decided leads.
    notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version__number"]

    def __str__(self) -> str:
        return f"review of version {self.version_id}"
