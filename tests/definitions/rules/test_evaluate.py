"""The reference evaluator: one case per operator and type, missing values, windows at
their exact bounds, groups, junk, scores and stages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from definitions.rules import (
    WORKED_EXAMPLE,
    Activity,
    ActivityCriterion,
    Category,
    Criterion,
    Definition,
    FieldCriterion,
    Group,
    GroupMode,
    LeadData,
    Op,
    Stage,
    Stages,
    Window,
    criterion_matches,
    evaluate,
    parse,
)
from definitions.rules.schema import Value

from .catalogs import CATALOG

AS_OF = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
IST = timezone(timedelta(hours=5, minutes=30))
PST = timezone(timedelta(hours=-8))
ABSENT = object()  # the lead has no such key at all


def field_criterion(
    field: str, op: str, value: Value = None, points: int | None = None
) -> FieldCriterion:
    return FieldCriterion(
        id=f"{field}-{op}",
        category=Category.FORMAT,
        field=field,
        op=Op(op),
        value=value,
        points=points,
    )


def lead_with(field: str, value: object) -> LeadData:
    return LeadData(fields={} if value is ABSENT else {field: value})


FIELD_CASES: list[tuple[str, str, Value, object, bool]] = [
    # text: casefold on both sides
    ("job_title", "eq", "Director", "director", True),
    ("job_title", "eq", "Straße", "STRASSE", True),
    ("job_title", "eq", "Director", "Directors", False),
    ("job_title", "eq", "Director", None, False),
    ("job_title", "eq", "Director", "", False),
    ("job_title", "ne", "Director", "Manager", True),
    ("job_title", "ne", "Director", "DIRECTOR", False),
    ("job_title", "ne", "Director", None, False),
    ("job_title", "ne", "Director", "", False),
    ("job_title", "ne", "Director", ABSENT, False),
    ("job_title", "in", ("CEO", "Director"), "ceo", True),
    ("job_title", "in", ("CEO", "Director"), "CTO", False),
    ("job_title", "not_in", ("CEO", "Director"), "CTO", True),
    ("job_title", "not_in", ("CEO", "Director"), "Ceo", False),
    ("job_title", "not_in", ("CEO", "Director"), None, False),
    ("job_title", "contains", "student", "PhD STUDENT", True),
    ("job_title", "contains", "student", "Stud", False),
    ("job_title", "contains", "student", None, False),
    ("job_title", "starts_with", "vp", "VP Sales", True),
    ("job_title", "starts_with", "vp", "SVP", False),
    ("job_title", "is_set", None, "x", True),
    ("job_title", "is_set", None, "", False),
    ("job_title", "is_set", None, None, False),
    ("job_title", "is_not_set", None, "", True),
    ("job_title", "is_not_set", None, None, True),
    ("job_title", "is_not_set", None, ABSENT, True),
    ("job_title", "is_not_set", None, "x", False),
    # choice
    ("seniority", "eq", "vp", "vp", True),
    ("seniority", "eq", "vp", "director", False),
    ("seniority", "eq", "vp", None, False),
    ("seniority", "ne", "vp", "director", True),
    ("seniority", "ne", "vp", None, False),
    ("seniority", "in", ("vp", "c_level"), "c_level", True),
    ("seniority", "in", ("vp", "c_level"), "owner", False),
    ("seniority", "not_in", ("vp", "c_level"), "owner", True),
    ("seniority", "not_in", ("vp", "c_level"), "", False),
    ("seniority", "is_set", None, "intern", True),
    ("seniority", "is_not_set", None, "", True),
    # number
    ("employees", "eq", 100, 100, True),
    ("employees", "eq", 100, 100.0, True),
    ("employees", "eq", 100, 101, False),
    ("employees", "eq", 1, True, False),  # a bool is not the number 1
    ("employees", "ne", 100, 101, True),
    ("employees", "ne", 100, 100, False),
    ("employees", "ne", 100, None, False),
    ("employees", "ne", 100, float("nan"), False),
    ("employees", "gt", 100, 100, False),
    ("employees", "gt", 100, 100.5, True),
    ("employees", "gte", 100, 100, True),
    ("employees", "gte", 100, 99.5, False),
    ("employees", "gte", 100, None, False),
    ("employees", "lt", 100, 99, True),
    ("employees", "lt", 100, 100, False),
    ("employees", "lte", 100, 100, True),
    ("employees", "lte", 100, 101, False),
    ("employees", "between", (10, 20), 10, True),
    ("employees", "between", (10, 20), 20, True),
    ("employees", "between", (10, 20), 20.5, False),
    ("employees", "between", (10, 20), 9.99, False),
    ("employees", "between", (10, 20), None, False),
    ("employees", "in", (1, 2.5), 2.5, True),
    ("employees", "in", (1, 2.5), 3, False),
    ("employees", "not_in", (1, 2.5), 3, True),
    ("employees", "not_in", (1, 2.5), None, False),
    ("employees", "is_set", None, 0, True),  # zero is a value, not a missing one
    ("employees", "is_set", None, float("nan"), False),
    ("employees", "is_not_set", None, None, True),
    ("employees", "is_not_set", None, 0, False),
    ("employees", "gte", 100, "100", False),  # wrong type never compares
    # boolean
    ("newsletter", "eq", True, True, True),
    ("newsletter", "eq", True, False, False),
    ("newsletter", "eq", False, False, True),
    ("newsletter", "eq", False, None, False),
    ("newsletter", "eq", True, 1, False),
    ("newsletter", "is_set", None, False, True),
    ("newsletter", "is_not_set", None, None, True),
    ("newsletter", "is_not_set", None, False, False),
    # date: values may be dates or datetimes, compared by UTC date
    ("created_at", "eq", "2025-06-01", date(2025, 6, 1), True),
    ("created_at", "eq", "2025-06-01", date(2025, 6, 2), False),
    ("created_at", "eq", "2025-06-01", datetime(2025, 6, 2, 3, 0, tzinfo=IST), True),
    ("created_at", "eq", "2025-06-01", datetime(2025, 6, 1, 23, 30, tzinfo=PST), False),
    ("created_at", "eq", "2025-06-01", datetime(2025, 6, 1, 23, 59), True),  # naive = UTC
    ("created_at", "eq", "2025-06-01", None, False),
    ("created_at", "gt", "2025-06-01", date(2025, 6, 1), False),
    ("created_at", "gt", "2025-06-01", date(2025, 6, 2), True),
    ("created_at", "gte", "2025-06-01", date(2025, 6, 1), True),
    ("created_at", "gte", "2025-06-01", date(2025, 5, 31), False),
    ("created_at", "lt", "2025-06-01", date(2025, 5, 31), True),
    ("created_at", "lt", "2025-06-01", date(2025, 6, 1), False),
    ("created_at", "lte", "2025-06-01", date(2025, 6, 1), True),
    ("created_at", "lte", "2025-06-01", date(2025, 6, 2), False),
    ("created_at", "between", ("2025-01-01", "2025-01-31"), date(2025, 1, 1), True),
    ("created_at", "between", ("2025-01-01", "2025-01-31"), date(2025, 1, 31), True),
    ("created_at", "between", ("2025-01-01", "2025-01-31"), date(2025, 2, 1), False),
    # within_last_days 30 at 2025-06-15: 2025-05-16 ..= 2025-06-15
    ("created_at", "within_last_days", 30, date(2025, 5, 16), True),
    ("created_at", "within_last_days", 30, date(2025, 5, 15), False),
    ("created_at", "within_last_days", 30, date(2025, 6, 15), True),
    ("created_at", "within_last_days", 30, date(2025, 6, 16), False),  # the future
    ("created_at", "within_last_days", 30, datetime(2025, 5, 15, 20, 0, tzinfo=PST), True),
    ("created_at", "within_last_days", 30, None, False),
    ("created_at", "is_set", None, date(2000, 1, 1), True),
    ("created_at", "is_not_set", None, None, True),
    ("created_at", "is_not_set", None, "2025-01-01", False),  # set, if of the wrong type
]


@pytest.mark.parametrize(
    ("field", "op", "value", "lead_value", "expected"),
    [pytest.param(*case, id=f"{case[0]}-{case[1]}-{case[3]!r}") for case in FIELD_CASES],
)
def test_a_field_criterion_matches_exactly_as_documented(
    field: str, op: str, value: Value, lead_value: object, expected: bool
) -> None:
    criterion = field_criterion(field, op, value)

    assert criterion_matches(criterion, lead_with(field, lead_value), as_of=AS_OF) is expected


def test_every_field_operator_of_every_type_has_a_case() -> None:
    from definitions.rules import OPERATORS

    covered = {(CATALOG.fields[f].type, Op(op)) for f, op, *_ in FIELD_CASES}
    required = {(type_, op) for type_, ops in OPERATORS.items() for op in ops}

    assert required <= covered


def activity(kind: str, at: datetime) -> Activity:
    return Activity(kind=kind, at=at)


def activity_criterion(window: str, min_count: int, days: int | None = None) -> ActivityCriterion:
    return ActivityCriterion(
        id="a",
        category=Category.BEHAVIOURAL,
        kind="download",
        min_count=min_count,
        window=Window(window),
        days=days,
    )


S = timedelta(seconds=1)
D = timedelta(days=1)
ACTIVITY_CASES: list[tuple[str, str, int, int | None, list[datetime], bool]] = [
    ("ever, enough", "ever", 2, None, [AS_OF - 400 * D, AS_OF], True),
    ("ever, an event exactly at as_of counts", "ever", 1, None, [AS_OF], True),
    ("ever, too few", "ever", 3, None, [AS_OF - D, AS_OF], False),
    ("ever, the future is ignored", "ever", 2, None, [AS_OF, AS_OF + S], False),
    ("last_days, exactly D days ago is outside", "last_days", 1, 30, [AS_OF - 30 * D], False),
    ("last_days, one second later is inside", "last_days", 1, 30, [AS_OF - 30 * D + S], True),
    ("last_days, as_of itself is inside", "last_days", 1, 30, [AS_OF], True),
    ("last_days, the future is ignored", "last_days", 1, 30, [AS_OF + S], False),
    ("last_days, counts only the window", "last_days", 2, 7, [AS_OF - 8 * D, AS_OF - D], False),
    (
        "one_day, three on one UTC day",
        "one_day",
        3,
        None,
        [datetime(2025, 6, 1, h, tzinfo=UTC) for h in (0, 12, 23)],
        True,
    ),
    (
        "one_day, split by UTC midnight though one local day",
        "one_day",
        3,
        None,
        # 2025-06-02 03:00, 04:00, 06:00 in India = 21:30, 22:30 on 06-01 and 00:30 06-02 UTC
        [datetime(2025, 6, 2, h, tzinfo=IST) for h in (3, 4, 6)],
        False,
    ),
    (
        "one_day, today's events after as_of are ignored",
        "one_day",
        2,
        None,
        [AS_OF - S, AS_OF + S],
        False,
    ),
    ("one_day, none at all", "one_day", 1, None, [], False),
]


@pytest.mark.parametrize(
    ("window", "min_count", "days", "times", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in ACTIVITY_CASES],
)
def test_an_activity_window_counts_exactly_as_documented(
    window: str, min_count: int, days: int | None, times: list[datetime], expected: bool
) -> None:
    lead = LeadData(activities=[activity("download", at) for at in times])

    assert (
        criterion_matches(activity_criterion(window, min_count, days), lead, as_of=AS_OF)
        is expected
    )


def test_activities_of_other_kinds_do_not_count() -> None:
    lead = LeadData(activities=[activity("page_view", AS_OF)] * 5)

    assert not criterion_matches(activity_criterion("ever", 1), lead, as_of=AS_OF)


def test_an_as_of_in_another_timezone_means_the_same_instant() -> None:
    lead = LeadData(activities=[activity("download", AS_OF)])

    assert criterion_matches(activity_criterion("ever", 1), lead, as_of=AS_OF.astimezone(PST))
    assert not criterion_matches(
        activity_criterion("ever", 1), lead, as_of=(AS_OF - S).astimezone(IST)
    )


# --------------------------------------------------------------------------- documents


def crit(criterion_id: str, field: str, value: Value, points: int | None = None) -> FieldCriterion:
    return FieldCriterion(
        id=criterion_id,
        category=Category.FIRMOGRAPHIC,
        field=field,
        op=Op.EQ,
        value=value,
        points=points,
    )


def definition(
    qualify: Group,
    *,
    disqualify: tuple[Criterion, ...] = (),
    scoring: tuple[Criterion, ...] = (),
    sales_ready: tuple[Criterion, ...] = (),
    mql: int = 0,
    sql: int = 0,
) -> Definition:
    return Definition(
        schema_version=1,
        qualify=qualify,
        disqualify=disqualify,
        scoring=scoring,
        stages=Stages(mql=mql, sql=sql, sales_ready=sales_ready),
        rationale="",
    )


US = crit("us", "country", "US", points=10)
LIFE = crit("life", "industry", "Life Science", points=20)
VP = crit("vp", "seniority", "vp", points=30)
NESTED = definition(
    Group("root", GroupMode.ANY, None, (Group("both", GroupMode.ALL, None, (US, LIFE)), VP))
)
TWO_OF_THREE = definition(Group("root", GroupMode.AT_LEAST, 2, (US, LIFE, VP)))


@pytest.mark.parametrize(
    ("fields", "qualified"),
    [
        ({"country": "us", "industry": "life science"}, True),
        ({"country": "us"}, False),
        ({"seniority": "vp"}, True),
        ({}, False),
    ],
)
def test_nested_groups_combine_all_inside_any(fields: dict[str, Any], qualified: bool) -> None:
    assert evaluate(NESTED, LeadData(fields), as_of=AS_OF).qualified is qualified


@pytest.mark.parametrize(
    ("fields", "qualified"),
    [
        ({"country": "US", "industry": "Life Science", "seniority": "vp"}, True),
        ({"country": "US", "seniority": "vp"}, True),
        ({"industry": "Life Science"}, False),
    ],
)
def test_at_least_n_needs_n_matching_children(fields: dict[str, Any], qualified: bool) -> None:
    assert evaluate(TWO_OF_THREE, LeadData(fields), as_of=AS_OF).qualified is qualified


def test_every_matching_criterion_is_reported_without_short_circuit() -> None:
    junk = crit("junk", "email_domain_kind", "edu")
    extra = crit("extra", "region", "EMEA", points=1)
    ready = crit("ready", "source", "webinar", points=2)
    doc = definition(
        Group("root", GroupMode.ANY, None, (US, LIFE, VP)),
        disqualify=(junk,),
        scoring=(extra,),
        sales_ready=(ready,),
    )
    lead = LeadData(
        {
            "country": "US",
            "industry": "Life Science",
            "seniority": "vp",
            "email_domain_kind": "edu",
            "region": "emea",
            "source": "webinar",
        }
    )

    assert evaluate(doc, lead, as_of=AS_OF).matched == {
        "us",
        "life",
        "vp",
        "junk",
        "extra",
        "ready",
    }


def test_a_junk_rule_overrides_a_qualifying_match() -> None:
    doc = definition(
        Group("root", GroupMode.ANY, None, (VP,)),
        disqualify=(crit("student", "email_domain_kind", "edu"),),
    )
    lead = LeadData({"seniority": "vp", "email_domain_kind": "edu"})

    result = evaluate(doc, lead, as_of=AS_OF)

    assert (result.junk, result.qualified, result.stage) == (True, False, Stage.JUNK)
    assert result.score == 30  # still computed, for explanation


def test_a_lead_that_does_not_qualify_is_a_subscriber_whatever_its_score() -> None:
    doc = definition(
        Group("root", GroupMode.ALL, None, (US, VP)),
        scoring=(crit("big", "region", "EMEA", points=500),),
        mql=10,
        sql=20,
    )

    result = evaluate(doc, LeadData({"country": "US", "region": "EMEA"}), as_of=AS_OF)

    assert (result.qualified, result.score, result.stage) == (False, 510, Stage.SUBSCRIBER)


DEMO = ActivityCriterion(
    id="demo",
    category=Category.BEHAVIOURAL,
    kind="demo_request",
    min_count=1,
    window=Window.EVER,
    points=0,
)


@pytest.mark.parametrize(
    ("points", "demo", "sales_ready", "expected"),
    [
        (39, False, (DEMO,), Stage.LEAD),
        (40, False, (DEMO,), Stage.MQL),
        (69, True, (DEMO,), Stage.MQL),
        (70, False, (DEMO,), Stage.MQL),  # score alone is not enough
        (70, True, (DEMO,), Stage.SQL),
        (70, False, (), Stage.SQL),  # no sales-ready actions defined: score alone
        (-5, False, (), Stage.LEAD),
    ],
)
def test_stages_follow_the_thresholds_and_the_sales_ready_requirement(
    points: int, demo: bool, sales_ready: tuple[Criterion, ...], expected: Stage
) -> None:
    doc = definition(
        Group("root", GroupMode.ANY, None, (crit("us", "country", "US", points=points),)),
        sales_ready=sales_ready,
        mql=40,
        sql=70,
    )
    lead = LeadData({"country": "US"}, [activity("demo_request", AS_OF - D)] if demo else [])

    result = evaluate(doc, lead, as_of=AS_OF)

    assert (result.score, result.stage) == (points, expected)


def test_the_score_adds_qualify_scoring_and_sales_ready_points_and_null_is_zero() -> None:
    doc = definition(
        Group("root", GroupMode.ALL, None, (US, crit("nopoints", "industry", "Life Science"))),
        scoring=(crit("minus", "region", "EMEA", points=-3),),
        sales_ready=(
            ActivityCriterion(
                id="demo",
                category=Category.BEHAVIOURAL,
                kind="demo_request",
                min_count=1,
                window=Window.EVER,
                points=25,
            ),
        ),
    )
    lead = LeadData(
        {"country": "US", "industry": "Life Science", "region": "EMEA"},
        [activity("demo_request", AS_OF)],
    )

    assert evaluate(doc, lead, as_of=AS_OF).score == 10 - 3 + 25


def test_the_worked_example_makes_a_price_requesting_life_science_vp_an_sql() -> None:
    worked = parse(WORKED_EXAMPLE, CATALOG).definition
    assert worked is not None
    lead = LeadData(
        {
            "source": "web_form_price_request",
            "industry": "Life Science",
            "annual_revenue": 450_000_000,
            "country": "CA",
            "seniority": "c_level",
            "email_domain_kind": "business",
        },
        [activity("price_request", AS_OF - D)],
    )

    result = evaluate(worked, lead, as_of=AS_OF)

    assert result.stage == Stage.SQL
    assert result.score == 15 + 10 + 10 + 5 + 10 + 25
    assert result.matched == {"format-source", "industry", "revenue", "hq", "seniority", "price"}


def test_the_worked_example_never_accepts_a_student() -> None:
    worked = parse(WORKED_EXAMPLE, CATALOG).definition
    assert worked is not None
    lead = LeadData({"source": "webinar", "job_title": "Graduate Student"})

    assert evaluate(worked, lead, as_of=AS_OF).stage == Stage.JUNK
