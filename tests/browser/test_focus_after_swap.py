"""Focus after htmx swaps, with the keyboard alone: where a swap replaced the element
that held focus, focus lands on that element again or the closest thing to it, never
on <body>; and a swap the user did not cause never moves it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.deliberation import services as deliberation_services
from definitions.models import Proposal
from definitions.roles import Department, Role
from definitions.versions import services as version_services
from tests.browser.conftest import log_in, open_raise_the_mql_bar
from tests.factories import PASSWORD, UserFactory, WorkshopFactory, add_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACTIVE = "document.activeElement"


def _workshop() -> tuple[Any, Any]:
    admin: Any = UserFactory(username="ada")
    workshop: Any = WorkshopFactory(actor=admin, name="Acme", slug="acme")
    version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    return admin, workshop


def _press(page: Any, key: str) -> None:
    """One key that starts one htmx round trip; returns once its swap has settled."""
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.keyboard.press(key)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    page.wait_for_timeout(50)  # htmx settles 20 ms after the swap


def _focused(page: Any) -> str:
    """The focused element as tag#id[name=value], so a failure says where focus went."""
    return str(
        page.evaluate(
            f"""() => {{
              const e = {ACTIVE};
              if (!e || e === document.body) return "body";
              return e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
                (e.name ? "[" + e.name + "=" + e.value + "]" : "");
            }}"""
        )
    )


@pytest.fixture
def builder_page(new_page: Callable[[], Any]) -> Any:
    admin, workshop = _workshop()
    draft = authoring_services.proposal_create(actor=admin, workshop=workshop, title="Keys")
    page = new_page()
    log_in(page, "ada", PASSWORD)
    page.goto(f"/w/acme/drafts/{draft.pk}/")
    page.draft = draft
    return page


def test_ticking_a_value_box_in_the_builder_keeps_focus_on_that_box(builder_page: Any) -> None:
    page = builder_page
    # The checkboxes have no id: focus comes back by their name and value.
    box = '#node-format-source input[name="n-format-source-values"][value="chat"]'
    page.locator(box).focus()
    assert not page.locator(box).is_checked()
    _press(page, "Space")
    assert page.locator(box).is_checked()
    assert page.evaluate(f"() => {ACTIVE}.matches('{box}')"), _focused(page)
    # And on: Tab and Space on the next box, still in place after its swap.
    page.keyboard.press("Tab")
    following = str(page.evaluate(f"() => {ACTIVE}.value"))
    _press(page, "Space")
    assert _focused(page) == f"input[n-format-source-values={following}]"


def test_a_link_focused_when_the_builder_swaps_keeps_focus(builder_page: Any) -> None:
    page = builder_page
    # Retitling: Tab out of the title sends the change, and focus is on the next link.
    page.locator("#id_title").focus()
    page.keyboard.press("End")
    page.keyboard.type(" and more")
    _press(page, "Tab")
    assert page.evaluate(f"() => {ACTIVE}.textContent.trim()") == "Proposal page", _focused(page)
    assert page.locator("h1").inner_text() == "Keys and more"
    page.locator("#builder-save").focus()
    _press(page, "Enter")
    assert _focused(page) == "button#builder-save[action=save]"
    page.get_by_text("Saved (revision 2).").wait_for()
    assert Proposal.objects.get(pk=page.draft.pk).title == "Keys and more"


def test_removing_criteria_leaves_focus_on_the_neighbour_then_in_the_emptied_section(
    builder_page: Any,
) -> None:
    page = builder_page
    page.locator('button[value="remove:junk-student-email"]').focus()
    _press(page, "Enter")
    # The server marks the criterion that took its place.
    field = "n-junk-student-title-field"
    assert _focused(page) == f"select#{field}[{field}=job_title]"
    page.locator('button[value="remove:junk-student-title"]').focus()
    _press(page, "Enter")
    # Nothing took its place: focus stays in the junk rules, at their first control.
    assert _focused(page) == "button[action=add_field:@disqualify]"
    # Adding one from there focuses the new criterion (autofocus), not the button.
    _press(page, "Enter")
    assert page.evaluate(f"() => {ACTIVE}.closest('#section-disqualify li.node') !== null")


def test_an_error_swapped_into_the_builder_is_announced_and_focus_stays(
    builder_page: Any,
) -> None:
    page = builder_page
    page.locator("#id_mql").focus()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("many")
    _press(page, "Tab")
    assert _focused(page) == "input#id_sql[sql=70]"
    assert page.locator("#error-stages-mql[role=alert]").is_visible()
    assert page.locator("#builder-status").inner_text().startswith("1 problem to fix")


@pytest.fixture
def vote_page(new_page: Callable[[], Any]) -> tuple[Any, Any, Any]:
    admin, workshop = _workshop()
    voter = add_member(workshop, UserFactory(username="sofia"), Role.STAKEHOLDER, Department.SALES)
    proposal = open_raise_the_mql_bar(admin, workshop)
    page = new_page()
    log_in(page, "sofia", PASSWORD)
    page.goto(f"/w/acme/proposals/{proposal.pk}/")
    return page, proposal, voter


def test_a_refused_vote_focuses_the_reason_and_a_recorded_one_the_vote_heading(
    vote_page: tuple[Any, Any, Any],
) -> None:
    page, _proposal, _voter = vote_page
    page.locator('#vote-panel input[name=choice][value="disagree"]').focus()
    page.keyboard.press("Space")
    page.locator("#vote-panel button[type=submit]").focus()
    _press(page, "Enter")  # a disagree needs a reason: refused, 400
    assert _focused(page) == "textarea#id_vote_reason[reason=]"
    assert page.locator("#vote-panel [role=alert]").is_visible()
    page.keyboard.type("Fifty-five lets too few through.")
    page.keyboard.press("Tab")
    _press(page, "Enter")
    assert _focused(page) == "h2#vote-heading"
    assert page.locator("#vote-panel [role=status]").inner_text() == "Your vote is recorded."


def test_a_poll_bringing_someone_elses_vote_never_moves_focus(
    vote_page: tuple[Any, Any, Any],
) -> None:
    page, proposal, _voter = vote_page
    other = add_member(
        proposal.workshop, UserFactory(username="lea"), Role.STAKEHOLDER, Department.LEADERSHIP
    )
    page.locator("#id_vote_reason").focus()
    page.keyboard.type("Still thinking")
    deliberation_services.vote_cast(actor=other, proposal=proposal, choice="agree", reason="")
    page.locator("#vote-lea").wait_for(timeout=10_000)  # the poll's swap arrived
    assert _focused(page) == "textarea#id_vote_reason[reason=Still thinking]"


def test_saving_a_member_row_keeps_focus_on_its_save_button(
    new_page: Callable[[], Any],
) -> None:
    _admin, workshop = _workshop()
    add_member(workshop, UserFactory(username="marco"), Role.STAKEHOLDER, Department.MARKETING)
    membership = workshop.memberships.get(user__username="marco")
    page = new_page()
    log_in(page, "ada", PASSWORD)
    page.goto("/w/acme/members/")
    page.locator(f"#id_m{membership.pk}-department").focus()
    page.keyboard.press("ArrowDown")  # a select changes without a request here
    page.keyboard.press("Tab")
    assert _focused(page) == f"button#member-save-{membership.pk}"
    _press(page, "Enter")
    assert _focused(page) == f"button#member-save-{membership.pk}"
    assert page.locator(f"#member-row-{membership.pk} [role=status]").inner_text() == "Saved."
