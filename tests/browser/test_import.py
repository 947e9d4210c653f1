from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from definitions.models import CustomField
from feedback.models import Lead
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, UserFactory, WorkshopFactory
from tests.feedback.imports.test_crm_presets import salesforce_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "Prospect ID;Lead Name;Email;Lead Source;Country;Occupation\n"
    "K1;Kenji Watanabe;kenji@sakura-labs.example;Webinar;JP;Working Professional\n"
    "K2;Giulia Neri;giulia@neri.example;Chat;IT;Student\n"
)


def test_an_admin_imports_a_csv_maps_a_new_field_and_finds_a_lead(
    new_page: Callable[[], Any], tmp_path: Path
) -> None:
    admin: Any = UserFactory(username="importer")
    WorkshopFactory(actor=admin, name="Acme", slug="acme")
    path = tmp_path / "crm-export.csv"
    path.write_text(CSV, encoding="utf-8")
    page = new_page()
    log_in(page, "importer", PASSWORD)

    page.goto("/w/acme/leads/")
    page.get_by_role("link", name="Import leads").click()
    page.get_by_label("CSV or XLSX file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("heading", name="Map the columns").wait_for()

    # "Occupation" becomes a new custom field of type choice.
    row = page.locator("tr", has=page.get_by_role("rowheader", name="Occupation"))
    row.locator("select[name$='-target']").select_option("new_field")
    row.locator("select[name$='-type']").select_option("choice")
    page.get_by_role("button", name="Import").click()

    bar = page.locator("#import-bar")
    bar.wait_for()
    page.wait_for_function("() => document.querySelector('#import-bar').value === 100")
    page.get_by_text("2 new, 0 updated, 0 unchanged.").wait_for()
    assert CustomField.objects.get(key="occupation").choices == ["Working Professional", "Student"]

    page.get_by_role("link", name="See the leads").click()
    page.get_by_placeholder("Search name, e-mail or company").fill("watanabe")
    page.get_by_role("link", name="Kenji Watanabe").wait_for()
    page.get_by_role("link", name="Kenji Watanabe").click()
    page.get_by_role("heading", name="Kenji Watanabe").wait_for()
    assert Lead.objects.get(external_id="K1").custom == {"occupation": "Working Professional"}


def test_an_admin_imports_a_salesforce_report_recoding_one_value_on_the_mapping_page(
    new_page: Callable[[], Any], tmp_path: Path
) -> None:
    admin: Any = UserFactory(username="importer")
    WorkshopFactory(actor=admin, name="Acme", slug="acme")
    path = tmp_path / "report.csv"
    path.write_bytes(salesforce_report(rows=12))
    page = new_page()
    log_in(page, "importer", PASSWORD)
    page.goto("/w/acme/imports/")
    page.get_by_label("CSV or XLSX file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("heading", name="Map the columns").wait_for()

    # The suggestion stands; only "Purchased List" becomes a trade show.
    table = page.get_by_role("table", name="What each value of “Lead Source” becomes")
    table.get_by_label("“Purchased List” becomes").select_option("trade_show")
    page.get_by_role("button", name="Import").click()
    page.get_by_text("12 new, 0 updated, 0 unchanged.").wait_for()
    sources = dict(Lead.objects.values_list("external_id", "source"))
    assert sources["00Q5g0000000003AbC"] == "trade_show"
    assert sources["00Q5g0000000004AbC"] == "chat"  # "Olark Chat", as the preset says
    assert Lead.objects.filter(converted=True).count() == 3
