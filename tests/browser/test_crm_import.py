"""A CRM export in the browser: the suggested mapping accepted as it is, one status
column mapped to sales verdicts with a value map on the page, the import, and the
verdicts counted on the accuracy page (imported only)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from definitions import rules
from definitions.versions import services as version_services
from feedback.backtests import services as backtest_services
from feedback.models import LeadFeedback, RunState
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, UserFactory, WorkshopFactory
from tests.feedback.imports.test_crm_presets import csv_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DISPOSITIONS = ["Sales Accepted", "Sales Rejected", "Nurture", "Sales Accepted"]


def hubspot_with_a_custom_disposition(rows: int = 24) -> bytes:
    """A HubSpot contacts export whose sales team records its verdict in a custom
    property no preset knows ("Sales Disposition")."""
    header = ["Record ID", "First Name", "Last Name", "Email", "Company Name", "Job Title",
              "Lifecycle Stage", "Original Source", "Number of Employees", "Industry",
              "Sales Disposition"]  # fmt: skip
    body = [
        [
            str(70_000 + n),
            f"Mia{n}",
            f"Berg{n}",
            f"mia{n}@berg{n % 6}.example",
            f"Berg {n % 6} GmbH",
            ["CFO", "IT Manager", "Student", "Head of Purchasing"][n % 4],
            ["lead", "opportunity", "customer", "subscriber"][n % 4],
            ["Organic Search", "Paid Search", "Direct Traffic"][n % 3],
            ["500", "12", "2,000", "80"][n % 4],
            ["Manufacturing", "Education", "Retail", "Logistics"][n % 4],
            DISPOSITIONS[n % len(DISPOSITIONS)],
        ]
        for n in range(rows)
    ]
    return csv_text(header, body)


def test_an_admin_maps_a_status_column_to_verdicts_and_sees_them_on_the_accuracy_page(
    new_page: Callable[[], Any], tmp_path: Path
) -> None:
    admin: Any = UserFactory(username="importer")
    workshop = WorkshopFactory(actor=admin, name="Acme", slug="acme")
    version = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    path = tmp_path / "hubspot-contacts.csv"
    path.write_bytes(hubspot_with_a_custom_disposition())
    page = new_page()
    log_in(page, "importer", PASSWORD)
    page.goto("/w/acme/imports/")
    page.get_by_label("CSV or XLSX file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("heading", name="Map the columns").wait_for()

    # The suggestion stands; "Sales Disposition" also gives sales verdicts.
    row = page.locator("tr", has=page.get_by_role("rowheader", name="Sales Disposition"))
    row.get_by_label("Its values are sales verdicts").check()
    page.get_by_role("button", name="Import").click()
    table = page.get_by_role(
        "table", name="The sales verdict each value of “Sales Disposition” gives"
    )
    table.wait_for()
    table.get_by_label("The verdict “Sales Accepted” gives").select_option("good")
    table.get_by_label("The verdict “Sales Rejected” gives").select_option("bad:no_budget")
    table.get_by_label("The verdict “Nurture” gives").select_option("none")
    page.get_by_role("button", name="Import").click()
    page.get_by_text("24 new, 0 updated, 0 unchanged.").wait_for()
    page.get_by_text("18 leads' sales verdicts were imported or changed.").wait_for()
    assert LeadFeedback.objects.filter(imported=True, verdict="good").count() == 12
    assert LeadFeedback.objects.filter(imported=True, reason="no_budget").count() == 6

    done = backtest_services.backtest_run_inline(
        backtest_services.backtest_start(
            actor=None, workshop=workshop, version=version, enqueue=False
        )
    )
    assert done.state == RunState.DONE
    page.goto("/w/acme/accuracy/")
    page.get_by_label("Verdicts counted").select_option("imported")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**verdicts=imported**")
    verdicts = page.locator("#confusion tr", has=page.get_by_role("rowheader", name="Rep verdicts"))
    assert verdicts.locator("td").last.inner_text() == "18"
    page.get_by_label("Verdicts counted").select_option("app")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**verdicts=app**")
    verdicts = page.locator("#confusion tr", has=page.get_by_role("rowheader", name="Rep verdicts"))
    assert verdicts.locator("td").last.inner_text() == "0"
