"""Production static files: with DEBUG=0 and no collectstatic, pages still render
(no 500 from the manifest storage) and the files they name are served; the deploy
check says collectstatic is missing; after collectstatic the hashed names are used."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from leadworkshop.checks import static_files_are_collected

pytestmark = pytest.mark.django_db

PRODUCTION_STORAGE = {"BACKEND": "leadworkshop.storage.ForgivingManifestStorage"}


@pytest.fixture
def production_static(settings: Any, tmp_path: Path) -> Path:
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": PRODUCTION_STORAGE}
    return Path(settings.STATIC_ROOT)


def _stylesheet(page: str) -> str:
    found = re.search(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert found, "the page names no stylesheet"
    return found.group(1)


def test_without_collectstatic_the_accuracy_page_renders_and_its_files_are_served(
    production_static: Path, admin: Any, workshop: Any
) -> None:
    client = Client()  # built after the settings: its WhiteNoise sees the finders
    client.force_login(admin)
    page = client.get(reverse("feedback:accuracy", args=[workshop.slug]))
    assert page.status_code == 200
    css = _stylesheet(page.content.decode())
    assert css == "/static/css/app.css"
    served = client.get(css)
    assert served.status_code == 200
    assert b"".join(served.streaming_content)  # type: ignore[attr-defined]
    assert [w.id for w in static_files_are_collected(None)] == ["leadworkshop.W001"]


def test_with_a_manifest_pages_use_its_hashed_names_and_the_check_is_clean(
    production_static: Path, admin: Any, workshop: Any
) -> None:
    # What collectstatic writes, for one file (collecting everything takes ~45 s).
    hashed = "css/app.0123456789ab.css"
    (production_static / "css").mkdir(parents=True)
    (production_static / hashed).write_text("body{}")
    (production_static / "staticfiles.json").write_text(
        json.dumps({"version": "1.1", "paths": {"css/app.css": hashed}})
    )
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("feedback:accuracy", args=[workshop.slug]))
    assert page.status_code == 200
    assert _stylesheet(page.content.decode()) == "/static/" + hashed
    # Files missing from the manifest still come unhashed, not as a 500.
    assert '/static/js/app.js"' in page.content.decode()
    assert static_files_are_collected(None) == []
