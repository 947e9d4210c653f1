"""Plain-language rendering: every criterion kind and operator, compact numbers,
plurals, and translation applied to whole templates before formatting."""

from __future__ import annotations

import re

import pytest

from definitions.rules import (
    DEFAULT_CATALOG,
    SALES_LEANING_EXAMPLE,
    WORKED_EXAMPLE,
    ActivityCriterion,
    ActivityKindSpec,
    Catalog,
    Category,
    Criterion,
    FieldCriterion,
    Op,
    Window,
    format_number,
    parse,
    render_criterion,
    render_lines,
    render_text,
)
from definitions.rules.schema import Value

from .catalogs import CATALOG


def fc(field: str, op: str, value: Value = None) -> FieldCriterion:
    return FieldCriterion(
        id="c", category=Category.FORMAT, field=field, op=Op(op), value=value, points=None
    )


def ac(kind: str, min_count: int, window: str, days: int | None = None) -> ActivityCriterion:
    return ActivityCriterion(
        id="a",
        category=Category.BEHAVIOURAL,
        kind=kind,
        min_count=min_count,
        window=Window(window),
        days=days,
    )


RENDERINGS: list[tuple[Criterion, str]] = [
    # text
    (fc("industry", "eq", "Life Science"), "Industry is “Life Science”"),
    (fc("industry", "ne", "Retail"), "Industry is not “Retail”"),
    (fc("country", "in", ("US", "CA")), "Country is one of “US” or “CA”"),
    (fc("country", "in", ("US", "CA", "MX")), "Country is one of “US”, “CA” or “MX”"),
    (fc("country", "in", ("US",)), "Country is “US”"),
    (fc("country", "not_in", ("RU", "KP")), "Country is none of “RU” or “KP”"),
    (fc("country", "not_in", ("RU",)), "Country is not “RU”"),
    (fc("job_title", "contains", "student"), "Job title contains “student”"),
    (fc("job_title", "starts_with", "VP"), "Job title starts with “VP”"),
    (fc("job_title", "is_set"), "Job title is filled in"),
    (fc("job_title", "is_not_set"), "Job title is not filled in"),
    # choice: labels, not codes
    (fc("seniority", "eq", "vp"), "Seniority is VP"),
    (fc("seniority", "ne", "intern"), "Seniority is not Intern"),
    (fc("seniority", "in", ("vp", "c_level", "owner")), "Seniority is one of VP, C-level or Owner"),
    (fc("source", "not_in", ("spreadsheet", "chat")), "Source is none of Spreadsheet or Chat"),
    (fc("plan", "eq", "pro"), "Plan is pro"),  # custom choice without labels: the code
    (fc("budget", "is_set"), "Budget is filled in"),
    # number: compact when exact
    (fc("annual_revenue", "eq", 1500000), "Annual revenue is 1.5M"),
    (fc("annual_revenue", "ne", 0), "Annual revenue is not 0"),
    (fc("annual_revenue", "gt", 1234), "Annual revenue is more than 1,234"),
    (fc("annual_revenue", "gte", 300000000), "Annual revenue is at least 300M"),
    (fc("employees", "lt", 50), "Employees is less than 50"),
    (fc("timeline_days", "lte", 180), "Timeline (days) is at most 180"),
    (fc("employees", "between", (10, 2500)), "Employees is between 10 and 2.5K"),
    (fc("employees", "in", (1, 2.5)), "Employees is one of 1 or 2.5"),
    (fc("employees", "not_in", (0,)), "Employees is not 0"),
    (fc("employees", "is_not_set"), "Employees is not filled in"),
    # boolean
    (fc("newsletter", "eq", True), "Newsletter: yes"),
    (fc("newsletter", "eq", False), "Newsletter: no"),
    (fc("newsletter", "is_set"), "Newsletter is filled in"),
    # date
    (fc("created_at", "eq", "2025-01-31"), "Created at is on 2025-01-31"),
    (fc("created_at", "gt", "2025-01-31"), "Created at is after 2025-01-31"),
    (fc("created_at", "gte", "2025-01-31"), "Created at is on or after 2025-01-31"),
    (fc("created_at", "lt", "2025-01-31"), "Created at is before 2025-01-31"),
    (fc("created_at", "lte", "2025-01-31"), "Created at is on or before 2025-01-31"),
    (
        fc("created_at", "between", ("2025-01-01", "2025-03-31")),
        "Created at is between 2025-01-01 and 2025-03-31",
    ),
    (fc("created_at", "within_last_days", 1), "Created at is within the last 1 day"),
    (fc("created_at", "within_last_days", 90), "Created at is within the last 90 days"),
    (fc("created_at", "is_not_set"), "Created at is not filled in"),
    # activities
    (ac("product_page_view", 5, "one_day"), "At least 5 product page views on one day"),
    (ac("product_page_view", 1, "one_day"), "At least 1 product page view on one day"),
    (ac("high_value_download", 2, "ever"), "At least 2 high-value downloads ever"),
    (ac("demo_request", 1, "ever"), "At least 1 demo request ever"),
    (ac("email_open", 3, "last_days", 30), "At least 3 email opens in the last 30 days"),
    (ac("webinar_attended", 1, "last_days", 1), "At least 1 webinar attended in the last 1 day"),
    (ac("booth_visit", 2, "ever"), "At least 2 “Booth visit” events ever"),
    (ac("booth_visit", 1, "one_day"), "At least 1 “Booth visit” event on one day"),
    # a field or kind the catalog no longer has still renders, by key
    (fc("legacy_score", "gte", 5), "legacy_score is at least 5"),
    (ac("fax_received", 1, "ever"), "At least 1 “fax_received” event ever"),
]


@pytest.mark.parametrize(
    ("criterion", "expected"), [pytest.param(c, e, id=e) for c, e in RENDERINGS]
)
def test_each_criterion_renders_as_one_plain_sentence(criterion: Criterion, expected: str) -> None:
    assert render_criterion(criterion, CATALOG) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (300000000, "300M"),
        (1500000, "1.5M"),
        (1250000, "1.25M"),
        (1234567, "1,234,567"),
        (2000000000, "2B"),
        (5000, "5K"),
        (999, "999"),
        (0, "0"),
        (-2500, "-2.5K"),
        (1e12, "1T"),
        (2.5, "2.5"),
        (300000000.0, "300M"),
    ],
)
def test_numbers_are_compact_only_when_exact(number: float, expected: str) -> None:
    assert format_number(number) == expected


def _shout(template: str) -> str:
    """A fake translation: uppercase everything except the {placeholders}."""
    return re.sub(r"[^{}]+(?=\{|$)|(?<=\})[^{}]+", lambda m: m.group(0).upper(), template)


def test_translate_is_applied_to_the_template_before_the_parameters() -> None:
    seen: list[str] = []

    def translate(template: str) -> str:
        seen.append(template)
        return _shout(template)

    text = render_criterion(fc("industry", "eq", "Life Science"), CATALOG, translate)

    # Parameters (the label and the value) are untouched; the template is shouted.
    assert text == "Industry IS “Life Science”"
    assert "{field} is {value}" in seen
    assert all("Life Science" not in template for template in seen)


def test_a_dictionary_translation_can_reorder_the_placeholders() -> None:
    japanese = {
        "{field} is at least {value}": "{field}が{value}以上",
        "{number}M": "{number}百万",
        "At least {events} on one day": "1日に{events}以上",
    }

    def ntranslate(singular: str, plural: str, n: int) -> str:
        return {"{count} product page view": "製品ページ閲覧{count}回"}.get(singular, singular)

    def translate(template: str) -> str:
        return japanese.get(template, template)

    catalog = DEFAULT_CATALOG.translated(lambda t: {"Annual revenue": "年間売上"}.get(t, t))

    assert render_criterion(fc("annual_revenue", "gte", 300000000), catalog, translate) == (
        "年間売上が300百万以上"
    )
    assert render_criterion(
        ac("product_page_view", 5, "one_day"), catalog, translate, ntranslate
    ) == ("1日に製品ページ閲覧5回以上")


def test_plurals_go_through_ntranslate_with_the_count() -> None:
    calls: list[tuple[str, str, int]] = []

    def ntranslate(singular: str, plural: str, n: int) -> str:
        calls.append((singular, plural, n))
        return singular if n == 1 else plural

    render_criterion(ac("email_open", 3, "last_days", 30), CATALOG, ntranslate=ntranslate)

    assert ("{count} email open", "{count} email opens", 3) in calls
    assert (
        "At least {events} in the last {days} day",
        "At least {events} in the last {days} days",
        30,
    ) in calls


def test_choice_labels_come_translated_through_the_catalog() -> None:
    italian = DEFAULT_CATALOG.translated(
        lambda t: {"Seniority": "Anzianità", "Owner": "Titolare"}.get(t, t)
    )

    assert render_criterion(fc("seniority", "eq", "owner"), italian) == "Anzianità is Titolare"


def test_custom_labels_are_not_sent_to_translate() -> None:
    catalog = Catalog.build(
        CATALOG.fields.values(), [ActivityKindSpec("booth_visit", "Visita allo stand")]
    ).translated(lambda t: t.upper())

    assert catalog.fields["occupation"].label == "Occupation"
    assert catalog.fields["industry"].label == "INDUSTRY"
    assert catalog.activity_kinds["booth_visit"].label == "Visita allo stand"


def test_the_worked_example_reads_as_the_written_definition() -> None:
    worked = parse(WORKED_EXAMPLE, CATALOG).definition
    assert worked is not None

    text = render_text(worked, CATALOG)

    assert text.startswith("A lead is anyone who meets at least one of these:\n")
    for expected in (
        "  - Source is one of Price-request form, Webinar, High-value white paper or "
        "Trusted referral (+15 points)",
        "  - Annual revenue is at least 300M (+10 points)",
        "  - Seniority is one of VP, C-level or Owner (+10 points)",
        "  - At least 5 product page views on one day (+20 points)",
        "Never a lead (junk), whatever else matches, if any of these:\n- Email domain kind is "
        "Education\n- Job title contains “student”",
        "- Email domain kind is Free email provider (-10 points)",
        "MQL at a score of at least 40.",
        "SQL at a score of at least 70 and at least one sales-ready action:\n"
        "- At least 1 demo request ever (+25 points)",
        "If any combination of these occurs, a lead has been created.",
    ):
        assert expected in text


def test_lines_carry_depth_and_criterion_ids_for_anchoring() -> None:
    sales = parse(SALES_LEANING_EXAMPLE, CATALOG).definition
    assert sales is not None

    lines = render_lines(sales, CATALOG)

    assert (lines[0].depth, lines[0].criterion_id) == (0, None)
    assert (lines[1].depth, lines[1].text) == (1, "At least 3 of these:")
    assert (lines[2].depth, lines[2].criterion_id) == (2, "industry")
    ids = [line.criterion_id for line in lines if line.criterion_id]
    assert ids == [
        "industry",
        "revenue",
        "hq",
        "seniority",
        "authority",
        "need",
        "timeline",
        "junk-free-email",
        "junk-student-email",
        "budget",
        "pp5-week",
        "demo",
        "trial",
    ]


def test_a_definition_without_junk_scoring_or_sales_ready_says_so() -> None:
    doc = {
        "schema_version": 1,
        "qualify": {"id": "r", "all": [{"id": "x", "field": "industry", "op": "is_set"}]},
        "stages": {"mql": 0, "sql": 10},
    }
    definition = parse(doc, CATALOG).definition
    assert definition is not None

    assert render_text(definition, CATALOG) == (
        "A lead is anyone who meets all of these:\n"
        "- Industry is filled in\n"
        "No junk rules.\n"
        "No extra points rules.\n"
        "The score is the sum of the points of every matching criterion above and below.\n"
        "MQL at a score of at least 0.\n"
        "SQL at a score of at least 10; no sales-ready action is required.\n"
    )


def test_the_whole_document_renders_through_translate() -> None:
    worked = parse(WORKED_EXAMPLE, CATALOG).definition
    assert worked is not None

    text = render_text(worked, CATALOG, _shout, lambda s, p, n: _shout(s if n == 1 else p))

    assert "A LEAD IS ANYONE WHO MEETS AT LEAST ONE OF THESE:" in text
    assert "ANNUAL REVENUE" not in text  # labels come from the catalog, not translate
    assert "Annual revenue IS AT LEAST 300M (+10 POINTS)" in text
    assert "AT LEAST 5 PRODUCT PAGE VIEWS ON ONE DAY" in text
