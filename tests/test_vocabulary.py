"""One vocabulary on screen: codes (audit actions, operators, activity kinds, stages)
read as words, numbers are localised with thousands separators and never show as
`None` or `4038.0`, and rules that subtract points are not listed as if they helped.
Also the favicon and the web manifest every page links."""

from __future__ import annotations

import ast
import datetime
import re
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from definitions import rules
from definitions.catalog.selectors import catalog_for, error_messages
from definitions.core import labels
from definitions.models import Workshop
from definitions.versions import services as version_services
from feedback.backtests.services import backtest_run_inline, backtest_start
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from feedback.models import Lead, LeadResult
from tests.factories import logged_in

ROOT = Path(__file__).resolve().parents[1]


def _logged_actions() -> set[str]:
    """Every action name passed as a literal to log_action in the project's code."""
    found: set[str] = set()
    for app in ("definitions", "feedback", "api", "leadworkshop"):
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", getattr(node.func, "attr", None)) == "log_action"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found.add(node.args[0].value)
    return found


def test_every_audit_action_the_code_records_has_a_label() -> None:
    actions = _logged_actions()
    assert "definitions.proposal.opened" in actions  # the scan finds them
    assert sorted(actions - labels.ACTION_LABELS.keys()) == []


def test_an_unknown_code_still_reads_as_words() -> None:
    assert labels.action_label("feedback.thing.got_done") == "Thing got done"
    assert labels.activity_label("site_visit") == "Site visit"
    assert labels.op_label("gte") == "is at least"


def test_codes_read_in_the_readers_language() -> None:
    with translation.override("it"):
        assert labels.activity_label("demo_request") == str(translation.gettext("Demo request"))
    assert labels.activity_label("demo_request") == "Demo request"
    assert labels.activity_label("visit", {"visit": "Showroom visit"}) == "Showroom visit"


def test_validation_errors_name_operators_as_the_builder_does() -> None:
    errors = (
        rules.ValidationError(
            "qualify.any[0].value",
            "Operator '{op}' needs a value.",
            MappingProxyType({"op": "gte"}),
        ),
        rules.ValidationError(
            "qualify.any[1].op",
            "Operator '{op}' is not allowed for field '{field}'; use one of: {allowed}.",
            MappingProxyType({"op": "within_last_days", "field": "Industry", "allowed": "eq, ne"}),
        ),
    )
    messages = [message for _path, message in error_messages(errors)]
    assert messages == [
        "Operator 'is at least' needs a value.",
        "Operator 'is within the last … days' is not allowed for field 'Industry'; "
        "use one of: “is”, “is not”.",
    ]


@pytest.mark.parametrize(
    ("value", "english", "italian"),
    [
        (4038.0, "4,038", "4.038"),
        (1_000_000, "1,000,000", "1.000.000"),
        (0.626, "0.63", "0,63"),
        (Decimal("12.50"), "12.5", "12,5"),
        (None, "—", "—"),
        (float("nan"), "—", "—"),
    ],
)
def test_numbers_are_localised_with_thousands_separators(
    value: Any, english: str, italian: str
) -> None:
    with translation.override("en"):
        assert labels.number(value) == english
    with translation.override("it"):
        assert labels.number(value) == italian


def test_a_leads_field_values_read_as_words() -> None:
    spec = rules.DEFAULT_CATALOG.fields["email_domain_kind"]
    assert labels.field_value(None) == "—"
    assert labels.field_value("") == "—"
    assert labels.field_value(True) == "yes"
    assert labels.field_value(250_000_000.0) == "250,000,000"
    assert labels.field_value("free", spec) == spec.choice_label("free")
    assert labels.field_value(datetime.date(2026, 3, 1)) == "03/01/2026"


@pytest.mark.django_db
def test_the_history_page_shows_actions_as_words(admin: Any, workshop: Workshop) -> None:
    page = logged_in(admin).get(reverse("definitions:workshop_history", args=["acme"]))
    text = page.content.decode()
    assert "Workshop created" in text
    assert "definitions.workshop.created" not in text


@pytest.mark.django_db
def test_a_matched_rule_with_negative_points_is_listed_as_subtracting(
    admin: Any, workshop: Workshop
) -> None:
    v1 = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    leads_insert_generated(workshop=workshop, leads=generate(200, seed=5))
    run = backtest_run_inline(
        backtest_start(actor=admin, workshop=workshop, version=v1, enqueue=False)
    )
    result = LeadResult.objects.filter(run=run, matched__contains="free-email").first()
    assert result is not None, "the generated leads include a free-mail address"
    lead = Lead.objects.get(pk=result.lead_id)
    page = logged_in(admin).get(reverse("feedback:lead_detail", args=["acme", lead.pk]))
    text = page.content.decode()
    catalog = catalog_for(workshop)
    free_email = next(
        located.node
        for located in rules.walk(rules.parse(v1.document, catalog).definition)  # type: ignore[arg-type]
        if located.node.id == "free-email"
    )
    sentence = rules.render_criterion(free_email, catalog)  # type: ignore[arg-type]
    subtracted = text.split('class="subtracted"')[1].split("</ul>")[0]
    assert sentence in subtracted
    matched = text.split('class="matched"')[1:]
    assert all(sentence not in part.split("</ul>")[0] for part in matched)
    assert "None" not in text.split('id="fields-heading"')[1].split("</section>")[0]


@pytest.mark.django_db
def test_the_favicon_is_served_to_anyone_and_pages_link_a_manifest(
    admin: Any, workshop: Workshop
) -> None:
    client = Client()
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    assert b"<svg" in icon.getvalue()
    page = logged_in(admin).get(reverse("home")).content.decode()
    assert 'rel="manifest"' in page and 'rel="icon"' in page


@pytest.mark.django_db
def test_the_accuracy_page_says_what_each_metric_measures_and_on_how_many_leads(
    admin: Any, workshop: Workshop
) -> None:
    v1 = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    leads_insert_generated(workshop=workshop, leads=generate(1200, seed=8))
    backtest_run_inline(backtest_start(actor=admin, workshop=workshop, version=v1, enqueue=False))
    page = logged_in(admin).get(reverse("feedback:accuracy", args=["acme"])).content.decode()
    notes = page.split('id="metric-notes"')[1].split("</section>")[0]
    assert "harmonic mean of precision and recall against outcomes" in notes
    assert "against sales reps' verdicts" in notes
    counted = re.search(r"; ([0-9,]+) leads with a known outcome", notes)
    assert counted is not None and int(counted.group(1).replace(",", "")) > 0


# --------------------------------------------------------------------------- dates


def _shown(html: str) -> str:
    """The words a reader sees inside a rendered `<time>`."""
    return re.sub(r"<[^>]+>", "", html).replace("\xa0", " ")


@pytest.mark.parametrize(
    ("language", "just_now", "three_minutes", "sixty_days_date"),
    [
        ("en", "now", "3 minutes ago", "%m/%d/%Y"),
        ("it", "adesso", "3 minuti fa", "%d/%m/%Y"),
        ("ja", "今", "3分前", "%Y/%m/%d"),
    ],
)
def test_a_moment_reads_relative_within_a_week_and_as_a_date_beyond(
    language: str, just_now: str, three_minutes: str, sixty_days_date: str
) -> None:
    now = timezone.now()
    long_ago = now - datetime.timedelta(days=60)
    with translation.override(language):
        assert _shown(labels.moment(now)) == just_now
        assert _shown(labels.moment(now - datetime.timedelta(minutes=3))) == three_minutes
        five_days = _shown(labels.moment(now - datetime.timedelta(days=5)))
        assert five_days == str(
            labels._AT_WEEKDAY[timezone.localtime(now - datetime.timedelta(days=5)).weekday()]
        ) % {"time": formats.date_format(timezone.localtime(now), "TIME_FORMAT")}
        assert _shown(labels.moment(long_ago)).startswith(
            timezone.localtime(long_ago).strftime(sixty_days_date)
        )
        html = labels.moment(long_ago)
    assert f'datetime="{timezone.localtime(long_ago).replace(microsecond=0).isoformat()}"' in html


def test_yesterday_and_a_weekday_read_in_the_readers_language() -> None:
    now = timezone.localtime()
    yesterday = now - datetime.timedelta(days=1, hours=1)
    with translation.override("it"):
        assert _shown(labels.moment(yesterday)).startswith("ieri alle ")
    with translation.override("ja"):
        assert _shown(labels.moment(yesterday)).startswith("昨日 ")
        # The title carries the full date and time whatever the words say.
        assert f'title="{yesterday.year}年{yesterday.month}月{yesterday.day}日' in str(
            labels.moment(yesterday)
        )
    with translation.override("en"):
        assert _shown(labels.moment(yesterday)).startswith("yesterday at ")
        assert "at" not in _shown(labels.moment(yesterday, exact=True))


def test_nothing_and_naive_moments_never_read_none() -> None:
    assert labels.moment(None) == "—"
    assert labels.moment("") == "—"
    assert labels.day(None) == "—"
    naive = datetime.datetime(2026, 3, 1, 14, 5)
    with translation.override("en"):
        assert _shown(labels.moment(naive)) == "03/01/2026 2:05 p.m."
        assert labels.day(datetime.date(2026, 3, 1)) == (
            '<time datetime="2026-03-01" title="March 1, 2026">03/01/2026</time>'
        )
    with translation.override("it"):
        assert _shown(labels.day(datetime.date(2026, 3, 1))) == "01/03/2026"


def test_a_moment_in_a_template_is_markup_and_anything_else_renders_inert() -> None:
    template = Template(
        '{% load labels %}{{ a|when }} {{ b|when }} {{ c|day }} {{ d|when:"exact" }}'
    )
    moment = timezone.now() - datetime.timedelta(days=90)
    html = template.render(
        Context({"a": moment, "b": "<script>x</script>", "c": None, "d": timezone.now()})
    )
    assert html.startswith("<time datetime=")
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "None" not in html
    assert "now" not in _shown(html.split("—")[1])  # exact: a date, not "now"
