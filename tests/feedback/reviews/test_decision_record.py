"""A version's decision record: the page, the PDF (A4 and Letter, text read back with
pypdf), the Markdown, the workshop's decision log as CSV, and who may see them."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from pypdf import PdfReader

from definitions.models import Version, Workshop
from tests.factories import logged_in
from tests.feedback.reviews.conftest import DISAGREE_REASON, RATIONALE

pytestmark = pytest.mark.django_db

MM_PER_POINT = 25.4 / 72


def _pdf_text(content: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return " ".join(text.split()), reader


def test_the_record_page_shows_the_decision_and_what_came_of_it(
    drifted: Version, workshop: Workshop, viewer: Any
) -> None:
    response = logged_in(viewer).get(f"/w/{workshop.slug}/versions/2/record/")
    assert response.status_code == 200
    page = response.content.decode()
    assert RATIONALE in page
    # Grouped by department, in the departments' order, each vote with its reason.
    marketing, sales, leadership = (
        page.index(">Marketing <"),
        page.index(">Sales <"),
        page.index(">Leadership <"),
    )
    assert marketing < sales < leadership
    assert DISAGREE_REASON in page and "Fewer, better leads." in page
    assert "What about labs inside retail chains?" in page  # the discussion it settled
    assert "Changes since v1" in page
    assert "No shadow run" in page
    assert "v2 promised F1 0.90 ± 0.04 against outcomes" in page
    assert "outside the promised interval" in page
    assert f'href="/w/{workshop.slug}/suggestions/"' in page


@pytest.mark.parametrize(
    ("paper", "width_mm", "height_mm"), [("a4", 210, 297), ("letter", 216, 279)]
)
def test_the_record_as_pdf_holds_the_rationale_the_votes_and_the_figures(
    drifted: Version, workshop: Workshop, marketer: Any, paper: str, width_mm: int, height_mm: int
) -> None:
    response = logged_in(marketer).get(
        f"/w/{workshop.slug}/versions/2/record.pdf", {"paper": paper}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text, reader = _pdf_text(response.content)
    box = reader.pages[0].mediabox
    assert round(float(box.width) * MM_PER_POINT) == width_mm
    assert round(float(box.height) * MM_PER_POINT) == height_mm
    assert RATIONALE in text
    for vote in ("The backtest is clear.", "Fewer, better leads.", DISAGREE_REASON):
        assert vote in text
    assert "Agree: 2" in text and "Disagree: 1" in text
    assert "0.90 ± 0.04" in text  # promised
    assert "0.30 ± 0.11" in text  # observed
    assert "100 leads decided since" in text
    assert "Industry is one of" in text or "Manufacturing" in text  # the definition


def test_an_unknown_paper_size_is_refused_with_a_message(
    drifted: Version, workshop: Workshop, marketer: Any
) -> None:
    response = logged_in(marketer).get(
        f"/w/{workshop.slug}/versions/2/record.pdf", {"paper": "tabloid"}
    )
    assert response.status_code == 400
    assert "choose a4 or letter" in response.content.decode()


def test_the_record_as_markdown_holds_the_rationale_the_votes_and_the_figures(
    drifted: Version, workshop: Workshop, rep: Any
) -> None:
    response = logged_in(rep).get(f"/w/{workshop.slug}/versions/2/record.md")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    assert text.startswith("# Acme Instruments — decision record: lead definition v2")
    assert f"> {RATIONALE}" in text
    assert "### Sales" in text
    assert f"- **seller**: Disagree — {DISAGREE_REASON}" in text
    assert "- **marketer**: Agree — The backtest is clear." in text
    assert "F1 0.90 ± 0.04 (0.85\N{EN DASH}0.94)" in text
    assert "v2 promised F1 0.90 ± 0.04 against outcomes; on the 100 leads decided since" in text
    assert "**Drift:" in text


def test_user_text_in_the_markdown_cannot_become_a_link(
    published: Version, workshop: Workshop, marketer: Any
) -> None:
    from definitions.models import Proposal

    Proposal.objects.filter(published_version=published).update(
        rationale="[click](https://evil.example) <b>x</b>"
    )
    text = logged_in(marketer).get(f"/w/{workshop.slug}/versions/2/record.md").content.decode()
    assert "> \\[click\\](https://evil.example) \\<b\\>x\\</b\\>" in text


def test_the_decision_log_lists_every_version_with_its_vote_and_review(
    drifted: Version, workshop: Workshop, leader: Any
) -> None:
    response = logged_in(leader).get(f"/w/{workshop.slug}/decisions.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, v2, v1 = rows
    assert header[:5] == ["version", "published at", "published by", "proposal", "rationale"]
    line = dict(zip(header, v2, strict=True))
    assert line["version"] == "2" and line["proposal"] == "Makers, not shops"
    assert line["rationale"] == RATIONALE
    assert (line["agree"], line["disagree"], line["block"]) == ("2", "1", "0")
    assert line["promised F1 (outcomes)"] == "0.9000"
    assert line["observed F1 (outcomes)"] == "0.3000"
    assert line["decided leads since"] == "100" and line["drift"] == "yes"
    first = dict(zip(header, v1, strict=True))
    assert first["version"] == "1" and first["proposal"] == "" and first["drift"] == "no"


def test_formula_cells_in_the_log_are_escaped(
    published: Version, workshop: Workshop, marketer: Any
) -> None:
    from definitions.models import Proposal

    Proposal.objects.filter(published_version=published).update(title="=HYPERLINK(1)")
    body = b"".join(
        logged_in(marketer).get(f"/w/{workshop.slug}/decisions.csv").streaming_content
    ).decode()
    assert "'=HYPERLINK(1)" in body


@pytest.mark.parametrize(
    "path", ["versions/2/record/", "versions/2/record.pdf", "versions/2/record.md", "decisions.csv"]
)
def test_outsiders_and_anonymous_visitors_get_nothing(
    published: Version, workshop: Workshop, outsider: Any, path: str
) -> None:
    from django.test import Client

    assert logged_in(outsider).get(f"/w/{workshop.slug}/{path}").status_code == 404
    anonymous = Client().get(f"/w/{workshop.slug}/{path}")
    assert anonymous.status_code in (302, 404)
    assert b"Makers" not in anonymous.content


def test_a_version_published_without_a_vote_has_a_plain_record(
    workshop: Workshop, admin: Any
) -> None:
    from definitions import rules
    from definitions.versions import services as version_services

    version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    page = logged_in(admin).get(f"/w/{workshop.slug}/versions/1/record/").content.decode()
    assert "Published without a vote" in page
    assert "No finished backtest when this version was published." in page
    assert "v1 has not been reviewed yet." in page
    assert logged_in(admin).get(f"/w/{workshop.slug}/versions/9/record/").status_code == 404


def test_text_users_wrote_renders_inert_on_the_record_page(
    published: Version, workshop: Workshop, marketer: Any
) -> None:
    from definitions.models import Comment, Proposal, Vote

    payload = "<script>alert(1)</script><img src=x onerror=alert(1)>"
    proposal = Proposal.objects.get(published_version=published)
    Proposal.objects.filter(pk=proposal.pk).update(rationale=payload, title=payload)
    Vote.objects.filter(proposal=proposal).update(reason=payload)
    Comment.objects.filter(proposal=proposal).update(body=payload)
    page = logged_in(marketer).get(f"/w/{workshop.slug}/versions/2/record/").content.decode()
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 6
