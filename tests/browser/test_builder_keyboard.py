from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.models import Proposal
from definitions.versions import services as version_services
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, UserFactory, WorkshopFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_builder_works_with_the_keyboard_alone(new_page: Callable[[], Any]) -> None:
    admin: Any = UserFactory(username="keys")
    workshop: Any = WorkshopFactory(actor=admin, name="Acme", slug="acme")
    version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    draft = authoring_services.proposal_create(actor=admin, workshop=workshop, title="Keys")
    page = new_page()
    log_in(page, "keys", PASSWORD)
    page.goto(f"/w/acme/drafts/{draft.pk}/")

    def settle() -> None:
        page.wait_for_function("() => !document.querySelector('form.htmx-request')")

    def focused() -> str:
        return str(page.evaluate("document.activeElement && document.activeElement.id"))

    # Reach the junk section's "+ Field criterion" button with Tab only.
    target = 'button[value="add_field:@disqualify"]'
    for _ in range(400):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches('{target}')"):
            break
    else:
        pytest.fail("Tab never reached the junk rules' add button")
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.keyboard.press("Enter")
    settle()
    new_field = focused()
    assert new_field.startswith("n-c-") and new_field.endswith("-field"), new_field
    node = new_field.removeprefix("n-").removesuffix("-field")

    def choose_with_arrows(select_id: str, value: str) -> None:
        """Arrow keys, one option at a time: each change is one htmx round trip, and
        focus comes back to the same select after the swap."""
        for _ in range(60):
            if page.locator(f"#{select_id}").input_value() == value:
                return
            assert focused() == select_id
            with page.expect_response(lambda r: r.request.method == "POST"):
                page.keyboard.press("ArrowDown")
            settle()
        pytest.fail(f"{value} not reached in #{select_id}")

    # Pick "Email domain kind", then its value, all from the keyboard.
    choose_with_arrows(f"n-{node}-field", "email_domain_kind")
    page.locator(f"#n-{node}-op").focus()
    page.keyboard.press("Tab")  # to the value select
    assert focused() == f"n-{node}-value"
    choose_with_arrows(f"n-{node}-value", "free")

    # Move it up with its button, and focus stays on that button.
    page.locator(f"#mv-up-{node}").focus()
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.keyboard.press("Enter")
    settle()
    assert focused() == f"mv-up-{node}"

    page.locator("#builder-save").focus()
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.keyboard.press("Enter")
    settle()
    page.get_by_text("Saved (revision 2).").wait_for()
    saved = Proposal.objects.get(pk=draft.pk)
    junk_fields = [c.get("field") for c in saved.document["disqualify"]]
    assert "email_domain_kind" in junk_fields
    new_rule = next(c for c in saved.document["disqualify"] if c["id"] == node)
    assert new_rule["value"] == "free"
    assert saved.document["disqualify"][-1]["id"] != node  # it moved up one place
