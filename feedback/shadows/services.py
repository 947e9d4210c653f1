"""Writes for shadow runs: start, stop, the sweep that writes down why runs stopped,
and classifying arrived leads by the published version and every running shadow at
the same moment.

Arrived leads are classified set-based, like a backtest chunk: the backtest compiler
(feedback.backtests.sql.compile_range) restricted to the arrived leads, one
INSERT … SELECT per running shadow that joins its statement to the published
version's. An API call of one lead and an import of a million take the same path.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from definitions import rules
from definitions.catalog.selectors import catalog_for
from definitions.core.audit import log_action
from definitions.models import Proposal, ProposalState, Version, Workshop
from definitions.versions.selectors import current_version
from feedback.backtests.sql import compile_range, fold_prepare
from feedback.models import Lead, ShadowProbe, ShadowResult, ShadowRun, ShadowStop

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

# At most this many shadow runs per workshop at a time: each one costs every arriving
# lead one more evaluation.
MAX_RUNNING = 3
# A shadow keeps running through the vote and until the accepted proposal is published.
RUNNING_STATES = (ProposalState.DRAFT, ProposalState.OPEN, ProposalState.ACCEPTED)
STARTABLE_STATES = (ProposalState.DRAFT, ProposalState.OPEN)
# Every lead id is below this: the id range of compile_range when the leads are named
# by a subquery instead.
ALL_IDS = 2**62


def running(workshop_id: int, now: datetime | None = None) -> QuerySet[ShadowRun]:
    """The workshop's shadow runs that classify arriving leads right now."""
    return ShadowRun.objects.filter(
        Q(workshop_id=workshop_id, stopped_at__isnull=True)
        & Q(ends_at__gt=now or timezone.now())
        & Q(proposal__state__in=RUNNING_STATES)
    )


def _definition(document: Any, catalog: rules.Catalog) -> rules.Definition | None:
    return rules.parse(document, catalog).definition


# ------------------------------------------------------------------- start / stop


@transaction.atomic
def shadow_start(*, actor: User, proposal: Proposal) -> ShadowRun:
    """Run the proposal's current document in shadow from now on, for the workshop's
    number of shadow days. Refused for a proposal that is not a draft or open, one
    already running, a fourth run in the workshop, or a document that no longer fits
    the catalog."""
    workshop = proposal.workshop
    # One start at a time per workshop: the limit of three must hold under two clicks.
    Workshop.objects.select_for_update(no_key=True).filter(pk=workshop.pk).exists()
    proposal.refresh_from_db(fields=["state", "document", "revision"])
    workshop.refresh_from_db(fields=["shadow_days"])
    now = timezone.now()
    if proposal.state not in STARTABLE_STATES:
        raise ValidationError(_("Only a draft or a proposal open for votes can run in shadow."))
    active = list(running(workshop.pk, now).values_list("proposal_id", flat=True))
    if proposal.pk in active:
        raise ValidationError(_("This proposal is already running in shadow."))
    if len(active) >= MAX_RUNNING:
        raise ValidationError(
            _("At most %(n)s proposals run in shadow at a time: stop one first.")
            % {"n": MAX_RUNNING}
        )
    if workshop.shadow_days < 1:
        raise ValidationError(_("Shadow runs are switched off: the workshop sets 0 days."))
    if _definition(proposal.document, catalog_for(workshop, translated=False)) is None:
        raise ValidationError(_("Fix the draft's errors before running it in shadow."))
    shadow = ShadowRun.objects.create(
        workshop=workshop,
        proposal=proposal,
        proposal_revision=proposal.revision,
        document=proposal.document,
        started_by=actor,
        started_at=now,
        ends_at=now + timedelta(days=workshop.shadow_days),
    )
    # Now, and again once committed (a call in between may have cached the old state).
    _forget_running()
    transaction.on_commit(_forget_running)
    log_action(
        "feedback.shadow.started",
        actor=actor,
        workshop=workshop,
        shadow=shadow.pk,
        proposal=proposal.pk,
        revision=proposal.revision,
        days=workshop.shadow_days,
    )
    return shadow


@transaction.atomic
def shadow_stop(*, actor: User, shadow: ShadowRun) -> ShadowRun:
    """Stop a running shadow by hand; its results stay as evidence."""
    stopped = ShadowRun.objects.filter(pk=shadow.pk, stopped_at__isnull=True).update(
        stopped_at=timezone.now(), stop_reason=ShadowStop.STOPPED
    )
    if not stopped:
        raise ValidationError(_("This shadow run has already stopped."))
    shadow.refresh_from_db(fields=["stopped_at", "stop_reason"])
    # Now, and again once committed (a call in between may have cached the old state).
    _forget_running()
    transaction.on_commit(_forget_running)
    log_action(
        "feedback.shadow.stopped",
        actor=actor,
        workshop=shadow.workshop,
        shadow=shadow.pk,
        proposal=shadow.proposal_id,
    )
    return shadow


def shadows_settle(now: datetime | None = None) -> int:
    """Write down why runs stopped by themselves: their proposal was published,
    withdrawn or rejected, or their days ran out (they already classify nothing, as
    ``running`` says; this makes it visible and final). Returns how many."""
    now = now or timezone.now()
    pending = ShadowRun.objects.filter(stopped_at__isnull=True)
    settled = 0
    for state, reason in (
        (ProposalState.PUBLISHED, ShadowStop.PUBLISHED),
        (ProposalState.WITHDRAWN, ShadowStop.WITHDRAWN),
        (ProposalState.REJECTED, ShadowStop.REJECTED),
    ):
        settled += pending.filter(proposal__state=state).update(stopped_at=now, stop_reason=reason)
    settled += pending.filter(ends_at__lte=now).update(
        stopped_at=now, stop_reason=ShadowStop.EXPIRED
    )
    return settled


# ----------------------------------------------------------------- classification

SHADOW_COLUMNS = "shadow_id, lead_id, classified_at, qualified, junk, score, stage, matched"
PUBLISHED_COLUMNS = (
    "version_id, published_qualified, published_score, published_stage, published_matched"
)


def shadows_classify(*, workshop_id: int, leads: QuerySet[Lead]) -> int:
    """Classify the arrived ``leads`` (a queryset: a subquery, never a list) by the
    published version and each running shadow, as of now; a lead seen before is
    classified again (its newest arrival counts). Returns how many shadows ran."""
    now = timezone.now()
    shadows = list(running(workshop_id, now))
    if not shadows:
        return 0
    workshop = Workshop.objects.get(pk=workshop_id)
    catalog = catalog_for(workshop, translated=False)
    ids = leads.filter(workshop_id=workshop_id).order_by().values("id")
    ids_sql, ids_params = ids.query.sql_with_params()

    def only(column: str) -> Q:
        return Q(**{f"{column}__in": ids})

    def statement(definition: rules.Definition) -> tuple[str, tuple[Any, ...]]:
        fold_prepare(definition, catalog, workshop_id=workshop_id, among=(ids_sql, ids_params))
        compiled = compile_range(
            definition,
            catalog,
            workshop_id=workshop_id,
            as_of=now,
            low=0,
            high=ALL_IDS,
            only=only,
        )
        return compiled.sql, compiled.params

    version: Version | None = current_version(workshop)
    published = _definition(version.document, catalog) if version is not None else None
    published_sql = statement(published) if published is not None else None
    table = ShadowResult._meta.db_table
    updates = ", ".join(
        f"{col} = excluded.{col}"
        for col in (SHADOW_COLUMNS + ", " + PUBLISHED_COLUMNS).split(", ")[2:]
    )
    done = 0
    with connection.cursor() as cursor:
        for shadow in shadows:
            definition = _definition(shadow.document, catalog)
            if definition is None:
                # A custom field it reads was deleted since it started: nothing to say.
                log.warning("shadow %s no longer fits the catalog", shadow.pk)
                continue
            sql, params = statement(definition)
            if published_sql is not None:
                source = f"({sql}) s LEFT JOIN ({published_sql[0]}) p ON p.lead_id = s.lead_id"
                picked = "%s, p.qualified, p.score, coalesce(p.stage, ''), coalesce(p.matched, '')"
                all_params: list[Any] = [
                    shadow.pk,
                    now,
                    version.pk if version is not None else None,
                    *params,
                    *published_sql[1],
                ]
            else:
                source = f"({sql}) s"
                picked = "NULL, NULL, NULL, '', ''"
                all_params = [shadow.pk, now, *params]
            cursor.execute(
                f"INSERT INTO {table} ({SHADOW_COLUMNS}, {PUBLISHED_COLUMNS}) "  # noqa: S608
                "SELECT %s, s.lead_id, %s, s.qualified, s.junk, s.score, s.stage, s.matched, "
                f"{picked} FROM {source} WHERE true "
                f"ON CONFLICT (shadow_id, lead_id) DO UPDATE SET {updates}",
                all_params,
            )
            done += 1
    return done


def on_leads_arrived(sender: Any, *, workshop_id: int, leads: QuerySet[Lead], **_: Any) -> None:
    """Receiver of feedback.leads.signals.leads_arrived (connected in feedback/apps.py).

    Runs inside the transaction that wrote the leads, in a savepoint of its own: a
    shadow that cannot classify loses its evidence for these leads, never the write."""
    try:
        with transaction.atomic():
            shadows_classify(workshop_id=workshop_id, leads=leads)
    except Exception:
        log.exception("shadow classification failed in workshop %s", workshop_id)


# The classify endpoint answers in milliseconds, so each process remembers the running
# shadows of a workshop, parsed, for this long instead of asking on every call: a run
# started or stopped elsewhere is seen within it (here at once, see _forget_running).
RUNNING_CACHE_SECONDS = 5.0
_running_cache: dict[int, tuple[float, list[tuple[int, datetime, rules.Definition]]]] = {}


def _forget_running() -> None:
    _running_cache.clear()


def _running_parsed(
    workshop_id: int, catalog: rules.Catalog
) -> list[tuple[int, datetime, rules.Definition]]:
    """(id, end, definition) of each running shadow of the workshop, from the cache."""
    cached = _running_cache.get(workshop_id)
    if cached is not None and time.monotonic() - cached[0] < RUNNING_CACHE_SECONDS:
        return cached[1]
    parsed = []
    for shadow in running(workshop_id).only("pk", "ends_at", "document"):
        definition = _definition(shadow.document, catalog)
        if definition is not None:
            parsed.append((shadow.pk, shadow.ends_at, definition))
    _running_cache[workshop_id] = (time.monotonic(), parsed)
    return parsed


def shadows_probe(
    *,
    workshop: Workshop,
    lead: rules.LeadData,
    as_of: datetime,
    published: rules.Result | None,
    catalog: rules.Catalog,
) -> int:
    """Judge a lead the classify endpoint was sent (it is not stored) by each running
    shadow, at the moment the current version judged it (``published``; None when the
    call asked for another version), and keep each pair of stages in one INSERT.
    Returns how many shadows judged it."""
    fresh = [
        ShadowProbe(
            shadow_id=shadow_id,
            at=as_of,
            published_stage=str(published.stage) if published is not None else "",
            stage=str(rules.evaluate(definition, lead, as_of=as_of).stage),
        )
        for shadow_id, ends_at, definition in _running_parsed(workshop.pk, catalog)
        if ends_at > as_of
    ]
    if fresh:
        with _probes_lock:
            if not _probes:
                _probes_since[0] = time.monotonic()
            _probes.extend(fresh)
            due = (
                len(_probes) >= PROBE_BATCH or time.monotonic() - _probes_since[0] >= PROBE_SECONDS
            )
        if due:
            shadow_probes_flush()
    return len(fresh)


# Probes are written in batches, at most PROBE_SECONDS late, so a classify call does not
# wait for a write (a round trip and a commit cost more than judging by three shadows).
# A process that dies hard loses at most those last seconds of probes: evidence, not an
# answer anyone was promised.
PROBE_SECONDS = 5.0
PROBE_BATCH = 1000
_probes: list[ShadowProbe] = []
_probes_since = [0.0]
_probes_lock = threading.Lock()


def shadow_probes_flush() -> int:
    """Write this process's pending probes now. Returns how many."""
    with _probes_lock:
        batch = list(_probes)
        _probes.clear()
    if batch:
        try:
            ShadowProbe.objects.bulk_create(batch)
        except Exception:  # a run deleted meanwhile, the database away: drop, never fail
            log.warning("dropped %s shadow probes", len(batch), exc_info=True)
            return 0
    return len(batch)


def _flush_at_exit() -> None:
    try:
        shadow_probes_flush()
    except Exception:  # the interpreter is going away; nothing to tell
        log.debug("no probes flushed at exit", exc_info=True)


atexit.register(_flush_at_exit)
