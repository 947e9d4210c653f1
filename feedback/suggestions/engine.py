"""Suggestions: concrete, explainable changes to the current definition, each with its
backtested effect, drawn from outcomes and the reps' verdicts.

Three kinds, all deterministic statistics (no model):

* **threshold**: move the MQL threshold to the score with the best F1 in the sweep
  (the effect is on "MQL or better");
* **junk rule**: the reason reps give most often for rejecting qualified leads, when a
  field says the same thing (student: an .edu address; B2C: a free-mail address; too
  small: revenue under 50M), becomes a junk rule;
* **drop**: a qualify criterion whose matched and unmatched leads convert alike
  (within 10 %, 30 or more cases each) does not separate good from bad.

The effect of a junk rule or a dropped criterion is measured by evaluating the changed
definition over every lead in SQL, as a backtest would, when the workshop has at most
SUGGESTION_EFFECT_MAX_LEADS leads; above that the proposal's own backtest tells.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from definitions import rules
from feedback.accuracy import metrics
from feedback.accuracy.selectors import Accuracy
from feedback.backtests.sql import compile_range, fold_prepare
from feedback.models import EvaluationRun, Lead, Reason, Verdict

MIN_REJECTIONS = 5
DOMINANT_SHARE = 0.3
SEPARATION = 0.1
MIN_CASES = 30

JUNK_RULES: dict[str, dict[str, Any]] = {
    Reason.STUDENT: {"field": "email_domain_kind", "op": "eq", "value": "edu"},
    Reason.B2C: {"field": "email_domain_kind", "op": "eq", "value": "free"},
    Reason.TOO_SMALL: {"field": "annual_revenue", "op": "lt", "value": 50_000_000},
}


@dataclass(frozen=True)
class Suggestion:
    key: str  # stable: what the "turn into a proposal" button names
    title: str
    why: str
    document: dict[str, Any]
    before: metrics.Confusion
    after: metrics.Confusion | None  # None: too many leads to measure here
    measure: str  # what "positive" means in before/after


def suggestions_for(
    accuracy: Accuracy, definition: rules.Definition, catalog: rules.Catalog
) -> list[Suggestion]:
    document = rules.to_json(definition)
    out: list[Suggestion] = []
    threshold = _threshold(accuracy, definition, document)
    if threshold is not None:
        out.append(threshold)
    junk = _junk_rule(accuracy, definition, document, catalog)
    if junk is not None:
        out.append(junk)
    out.extend(_drops(accuracy, definition, document, catalog))
    return out


def _threshold(
    accuracy: Accuracy, definition: rules.Definition, document: dict[str, Any]
) -> Suggestion | None:
    best = accuracy.best
    mql = definition.stages.mql
    if best is None or best.threshold == mql:
        return None
    rows = accuracy.qualified_by_score
    [now] = metrics.sweep(
        rows, accuracy.qualified_outcomes.fn, accuracy.qualified_outcomes.tn, [mql]
    )
    if now.confusion.f1 is not None and (best.confusion.f1 or 0) <= now.confusion.f1 + 0.01:
        return None
    changed = rules.edit.with_thresholds(
        document, mql=best.threshold, sql=max(definition.stages.sql, best.threshold)
    )
    return Suggestion(
        key=f"threshold:{best.threshold}",
        title=_("Set the MQL threshold to %(t)s (now %(now)s)") % {"t": best.threshold, "now": mql},
        why=_(
            "Against outcomes, counting only leads at MQL or better, a threshold of %(t)s "
            "has the best F1 of the sweep."
        )
        % {"t": best.threshold},
        document=changed,
        before=now.confusion,
        after=best.confusion,
        measure=_("MQL or better"),
    )


def _junk_rule(
    accuracy: Accuracy,
    definition: rules.Definition,
    document: dict[str, Any],
    catalog: rules.Catalog,
) -> Suggestion | None:
    run = accuracy.run
    # Reviewed qualified leads per verdict and reason, from the run's verdict tallies.
    reviewed = 0
    by_reason: dict[str, int] = {}
    for (verdict, why), n in accuracy.qualified_verdicts.items():
        reviewed += n
        if verdict == Verdict.NOT_A_LEAD:
            by_reason[why] = by_reason.get(why, 0) + n
    rejections = sum(by_reason.values())
    if rejections < MIN_REJECTIONS:
        return None
    reason, count = max(by_reason.items(), key=lambda p: (p[1], p[0]))
    if count < MIN_REJECTIONS or count / rejections < DOMINANT_SHARE:
        return None
    rule = JUNK_RULES.get(reason)
    if rule is None or any(
        isinstance(c, rules.FieldCriterion)
        and (c.field, str(c.op), c.value) == (rule["field"], rule["op"], rule["value"])
        for c in definition.disqualify
    ):
        return None
    ids = {loc.node.id for loc in rules.walk(definition)}
    new_id = next(f"junk-{reason}-{n}" for n in range(1, 999) if f"junk-{reason}-{n}" not in ids)
    changed = rules.edit.with_junk_rule(
        document,
        {"id": new_id, "category": catalog.fields[rule["field"]].category, **rule, "points": None},
    )
    label = Reason(reason).label
    return Suggestion(
        key=f"junk:{reason}",
        title=_("Add a junk rule for “%(reason)s”") % {"reason": label},
        why=_(
            "Reps rejected %(n)s of %(total)s reviewed qualified leads as “%(reason)s”; "
            "the rule says it from the lead's data."
        )
        % {"n": count, "total": reviewed, "reason": label},
        document=changed,
        before=accuracy.qualified_outcomes,
        after=_effect(run, changed, catalog),
        measure=_("qualified"),
    )


def _drops(
    accuracy: Accuracy,
    definition: rules.Definition,
    document: dict[str, Any],
    catalog: rules.Catalog,
) -> list[Suggestion]:
    leaves = {c.id for c in _qualify_leaves(definition.qualify)}
    out = []
    for stats in accuracy.criteria:
        if stats.id not in leaves or not (stats.matched.n >= MIN_CASES <= stats.unmatched.n):
            continue
        inside, outside = stats.matched.value, stats.unmatched.value
        if not inside or not outside or abs(inside / outside - 1) > SEPARATION:
            continue
        changed = rules.edit.without_criterion(document, stats.id)
        if changed is None:
            continue
        out.append(
            Suggestion(
                key=f"drop:{stats.id}",
                title=_("Drop “%(criterion)s”") % {"criterion": stats.text},
                why=_(
                    "Leads it matched converted at %(inside)s, the others at %(outside)s: "
                    "it does not tell good leads from bad."
                )
                % {"inside": f"{100 * inside:.0f} %", "outside": f"{100 * outside:.0f} %"},
                document=changed,
                before=accuracy.qualified_outcomes,
                after=_effect(accuracy.run, changed, catalog),
                measure=_("qualified"),
            )
        )
    return out[:3]


def _qualify_leaves(group: rules.Group) -> list[rules.Criterion]:
    out: list[rules.Criterion] = []
    for child in group.children:
        out.extend(_qualify_leaves(child) if isinstance(child, rules.Group) else [child])
    return out


def _effect(
    run: EvaluationRun, document: dict[str, Any], catalog: rules.Catalog
) -> metrics.Confusion | None:
    """The changed definition's confusion against outcomes, over every lead (the
    same statement a backtest runs), or None above the size limit."""
    if run.leads_total > settings.SUGGESTION_EFFECT_MAX_LEADS:
        return None
    definition = rules.parse(document, catalog).definition
    if definition is None:
        return None
    fold_prepare(definition, catalog, workshop_id=run.workshop_id)
    statement = compile_range(
        definition,
        catalog,
        workshop_id=run.workshop_id,
        as_of=run.as_of,
        low=0,
        high=2**62,
        decision_days=run.decision_days,
    )
    lead = Lead._meta.db_table
    # COALESCE: an unknown "converted" is not a conversion (NOT NULL would be NULL).
    good = (
        "(COALESCE(l.converted = %s, FALSE) "
        "OR COALESCE(l.reached_stage IN ('opportunity', 'customer'), FALSE))"
    )
    known = "(l.converted IS NOT NULL OR l.reached_stage IS NOT NULL)"
    sql = (
        "SELECT "  # noqa: S608
        f"SUM(CASE WHEN r.qualified AND {good} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN r.qualified AND NOT {good} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN NOT r.qualified AND {good} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN NOT r.qualified AND NOT {good} THEN 1 ELSE 0 END) "
        f"FROM ({statement.sql}) r JOIN {lead} l ON l.id = r.lead_id WHERE {known}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [True, True, True, True, *statement.params])
        tp, fp, fn, tn = (v or 0 for v in cursor.fetchone())
    return metrics.Confusion(tp, fp, fn, tn)
