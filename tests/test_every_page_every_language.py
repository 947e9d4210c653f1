"""Every page, in every shipped language, says nothing in English that we translated.

The pages are the GET fuzz's URL walk (every named pattern, path arguments filled with
real objects of one seeded workshop, its admin logged in). Each HTML page is rendered
through the Django test client in each language and its visible text — tags, scripts
and styles stripped, plus the attributes people read or hear (``title``, ``alt``,
``aria-label``, ``placeholder``) and the chart labels handed to JavaScript in ``data-*``
attributes — must not contain an English msgid of the project's own catalogue whose
translation differs from it. Short msgids ("MQL", "Name") are left out: they are as
likely to be a lead's data or a product word as an untranslated label.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from definitions import rules
from definitions.core.labels import system_note
from definitions.models import Workshop
from feedback.backtests import services as backtest_services
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from feedback.models import EvaluationRun, Lead, RunState
from tests.test_get_fuzz import TARGETS, seeded, urls_of

__all__ = ["seeded"]  # the fixture, shared with the GET fuzz

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != "en"]
PAGES = [t for t in TARGETS if not t.name.startswith("api-v1:")]

MIN_LENGTH = 12
READ_ATTRIBUTES = {"title", "alt", "aria-label", "placeholder"}


def _unquote(lines: list[str]) -> str:
    return "".join(ast.literal_eval(line) for line in lines)


@cache
def catalogue(code: str) -> frozenset[str]:
    """The msgids of ``code``'s catalogue whose translation differs from the English."""
    entries: list[dict[str, list[str]]] = []
    entry: dict[str, list[str]] = {}
    key = ""
    for raw in (LOCALE_DIR / code / "LC_MESSAGES" / "django.po").read_text().splitlines():
        line = raw.strip()
        if not line:
            if entry:
                entries.append(entry)
            entry, key = {}, ""
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry.setdefault(key, []).append(line)
        else:
            key, _space, rest = line.partition(" ")
            entry[key] = [rest]
    if entry:
        entries.append(entry)
    found: set[str] = set()
    for e in entries:
        english = [_unquote(e[k]) for k in ("msgid", "msgid_plural") if k in e]
        translations = {_unquote(v) for k, v in e.items() if k.startswith("msgstr")}
        for msgid in english:
            text = " ".join(msgid.split())
            if text not in translations:
                found.add(text)
    return frozenset(found)


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


@cache
def patterns(code: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each translated msgid as a pattern of the visible text: its placeholders (filled
    in on the page) match anything short, so a criterion sentence left in English is
    caught whatever its field and value. Kept only when its own words are long enough."""
    kept = []
    for msgid in sorted(catalogue(code)):
        words = PLACEHOLDER.split(msgid)
        while len(words) > 1 and not words[0].strip():
            words.pop(0)
        while len(words) > 1 and not words[-1].strip():
            words.pop()
        literal = max(words, key=len)
        if len(literal.strip()) < MIN_LENGTH or " " not in literal.strip():
            continue
        regex = ".{1,80}?".join(re.escape(w) for w in words)
        kept.append((msgid, re.compile(regex)))
    return tuple(kept)


class VisibleText(HTMLParser):
    SILENT = {"script", "style", "template", "noscript"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.silent = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SILENT:
            self.silent += 1
        for name, value in attrs:
            if value and (name in READ_ATTRIBUTES or name.startswith("data-")):
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SILENT and self.silent:
            self.silent -= 1

    def handle_data(self, data: str) -> None:
        if not self.silent:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _written(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield " ".join(value.split())
    elif isinstance(value, dict):
        for item in value.values():
            yield from _written(item)
    elif isinstance(value, list):
        for item in value:
            yield from _written(item)


# What the seeded workshop's people wrote in English (the worked example's rationale):
# their words, not ours, so they stay as written in every language.
WRITTEN = sorted(set(_written(rules.WORKED_EXAMPLE)), key=len, reverse=True)


def untranslated(html: str, code: str) -> list[str]:
    text = visible_text(html)
    for written in WRITTEN:
        text = text.replace(written, " ")
    return sorted(
        {found.group(0) for _msgid, pattern in patterns(code) if (found := pattern.search(text))}
    )


def test_the_check_catches_english_in_text_and_read_attributes_but_not_in_scripts() -> None:
    assert len(catalogue("it")) > 200
    assert "Opened for votes" in catalogue("it")
    left = untranslated("<p>Rebased onto v12</p>", "it")
    assert left == ["Rebased onto v"]
    assert untranslated("<p>Opened  for\nvotes</p>", "it") == ["Opened for votes"]
    assert untranslated('<b title="Opened for votes">x</b>', "it") == ["Opened for votes"]
    assert untranslated("<script>'Opened for votes'</script>", "it") == []
    assert untranslated("<p>Aperta al voto</p>", "it") == []


def test_a_note_the_system_wrote_reads_in_the_readers_language() -> None:
    with translation.override("it"):
        assert system_note("Opened for votes") == "Aperta al voto"
        assert system_note("Rebased onto v3") == "Riallineata sulla v3"
        assert system_note("Opened for votes, says Ann") == "Opened for votes, says Ann"


@pytest.fixture
def worked(
    seeded: dict[str, Any],
) -> dict[str, Any]:
    """The seeded workshop with generated leads and a finished backtest, so the pages
    that show criteria next to figures (backtests, accuracy, leads) have some."""
    workshop = Workshop.objects.get(slug=seeded["slug"])
    leads_insert_generated(workshop=workshop, leads=generate(80, seed=3))
    # The GET fuzz's run was started without being worked: work it now, on the leads.
    run = backtest_services.backtest_run_inline(EvaluationRun.objects.get(pk=seeded["run_id"]))
    run.refresh_from_db()
    assert run.state == RunState.DONE, run.message
    return seeded


@pytest.mark.django_db
@pytest.mark.parametrize("code", TRANSLATED)
def test_every_page_reads_in_the_chosen_language(
    code: str, admin: Any, worked: dict[str, Any]
) -> None:
    seeded = worked
    client = Client()
    client.force_login(admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = code
    found: dict[str, list[str]] = {}
    for target in PAGES:
        for url in urls_of(target, seeded):
            response = client.get(url)
            assert response.status_code < 500, url
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            body = response.content.decode()
            assert "<html" not in body or f'<html lang="{code}"' in body, url
            if left := untranslated(body, code):
                found[url] = left
    assert not found, f"English left on pages in {code}: {found}"


# What a missing value or a float's noise looks like when it leaks onto a page.
NOISE = re.compile(r"\bNone\b|\bnan\b|\bNaN\b|\b\d[\d,]*\.0\b(?![.\d])")


# Our own sentences that say "None." in words (translated like any other) are not a
# leaked value.
OUR_NONES = sorted(
    (m for m in catalogue("it") if m != "None" and re.search(r"\bNone\b", m)), key=len, reverse=True
)


def noise(html: str) -> list[str]:
    text = visible_text(html)
    for sentence in OUR_NONES:
        text = text.replace(sentence, " ")
    return sorted(set(NOISE.findall(text)))


def test_the_noise_check_catches_none_nan_and_whole_floats_but_not_our_words() -> None:
    assert "None." in OUR_NONES
    assert noise("<td>None</td><td>nan</td><td>4038.0</td><p>None.</p>") == [
        "4038.0",
        "None",
        "nan",
    ]
    assert noise("<td>—</td><td>4,038</td><td>0.5</td><td>v1.0.2</td><p>None.</p>") == []


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["en", "ja"])
def test_no_page_shows_none_nan_or_a_whole_number_as_a_float(
    code: str, admin: Any, worked: dict[str, Any]
) -> None:
    workshop = Workshop.objects.get(slug=worked["slug"])
    # Leads whose optional fields are all empty, or hold whole numbers stored as floats
    # and a custom value left blank, next to the seeded ones.
    empty = Lead.objects.create(workshop=workshop, external_id="empty", custom={"motto": ""})
    whole = Lead.objects.create(
        workshop=workshop,
        external_id="whole",
        name="Whole",
        employees=250.0,
        annual_revenue=4038.0,
        timeline_days=30.0,
        deal_value=12000.0,
        budget="none",
        need="none",
        custom={"shoe": 42.0, "motto": None},
    )
    client = Client()
    client.force_login(admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = code
    lead_pages = [
        reverse("feedback:lead_detail", args=[workshop.slug, lead.pk]) for lead in (empty, whole)
    ]
    found: dict[str, list[str]] = {}
    for url in [*lead_pages, *(u for target in PAGES for u in urls_of(target, worked))]:
        response = client.get(url)
        assert response.status_code < 500, url
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        if leaked := noise(response.content.decode()):
            found[url] = leaked
    assert not found, f"None, nan or float noise on pages in {code}: {found}"
