"""A decision record as a file: Markdown (written here from the same record the page
shows), PDF (the page's own template rendered by WeasyPrint on A4 or Letter), and the
workshop's decision log as CSV rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from definitions.versions.exports import _md_escape as md_escape
from feedback.reviews.figures import Figures
from feedback.reviews.selectors import DecisionRecord, LogRow

# ?paper= values and their CSS page size.
PAPERS = {"a4": "A4", "letter": "letter"}


def record_context(record: DecisionRecord, *, printable: bool, paper: str = "a4") -> dict[str, Any]:
    version = record.version
    return {
        "workshop": record.workshop,
        "version": version,
        "record": record,
        "published_by": _person(version.published_by),
        "proposal_author": _person(record.proposal.author) if record.proposal else "—",
        "printable": printable,
        "layout": "feedback/_record_print_base.html" if printable else "base.html",
        "paper_css": PAPERS.get(paper, "A4"),
    }


def _person(user: Any) -> str:
    if user is None:
        return "—"
    return str(user.get_full_name() or user.get_username())


def to_pdf(record: DecisionRecord, paper: str, request: HttpRequest) -> bytes:
    """The page's template, printable, through WeasyPrint. Nothing is fetched: the
    print layout carries its own styles, so no URL is ever resolved."""
    # Imported here: WeasyPrint takes seconds to import and only PDF requests need it.
    from weasyprint import HTML

    html = render_to_string(
        "feedback/decision_record.html",
        record_context(record, printable=True, paper=paper),
        request=request,
    )
    pdf: bytes = HTML(string=html, url_fetcher=_no_fetch).write_pdf()
    return pdf


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
    raise ValueError(f"the decision record fetches nothing ({url[:60]})")


def _figures_line(label: str, figures: Figures | None) -> str:
    if figures is None:
        return f"- {md_escape(label)}: {_('not counted')}"
    return _("- %(truth)s: precision %(precision)s, recall %(recall)s, F1 %(f1)s (%(n)s leads)") % {
        "truth": md_escape(label),
        "precision": _rate(figures.precision.value),
        "recall": _rate(figures.recall.value),
        "f1": md_escape(figures.f1_text),
        "n": figures.confusion.n,
    }


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def to_markdown(record: DecisionRecord) -> str:
    version, workshop = record.version, record.workshop
    out = [
        "# "
        + md_escape(
            _("%(workshop)s — decision record: lead definition v%(n)s")
            % {"workshop": workshop.name, "n": version.number}
        ),
        "",
        "_"
        + md_escape(
            _("Published %(date)s by %(who)s.")
            % {
                "date": date_format(version.published_at, "DATETIME_FORMAT"),
                "who": _person(version.published_by),
            }
        )
        + "_",
        "",
        f"## {_('The definition')}",
        "",
    ]
    for line in record.lines:
        text = md_escape(line.text)
        out.append(f"{'  ' * max(line.depth - 1, 0)}- {text}" if line.depth > 0 else f"\n{text}\n")
    out += ["", f"## {_('Changes')}", ""]
    if record.changes:
        out += [f"- {md_escape(change)}" for change in record.changes]
    else:
        out.append(
            _("The first version.") if version.parent is None else _("Same content as its parent.")
        )
    out += ["", f"## {_('Why this change')}", ""]
    proposal = record.proposal
    if proposal is not None:
        out.append(f"**{md_escape(proposal.title)}** — {md_escape(_person(proposal.author))}")
        out.append("")
        for paragraph in (proposal.rationale or _("No rationale was written.")).splitlines():
            out.append(f"> {md_escape(paragraph)}")
        if proposal.outcome:
            out += ["", f"{_('Outcome of the vote:')} {md_escape(proposal.outcome)}"]
    else:
        out.append(_("Published without a vote (the first version, a rollback or an import)."))
    out += ["", f"## {_('The votes, by department')}", ""]
    if record.departments:
        out.append(" · ".join(f"{label}: {n}" for label, n in record.tally))
        for group in record.departments:
            out += ["", f"### {md_escape(group.label)}", ""]
            for vote in group.votes:
                reason = f" — {md_escape(vote.reason)}" if vote.reason else ""
                out.append(f"- **{md_escape(vote.voter)}**: {vote.choice_label}{reason}")
    else:
        out.append(_("No votes were cast."))
    out += ["", f"## {_('Comments resolved by the decision')}", ""]
    if record.comments:
        for comment in record.comments:
            body = " ".join(comment.body.split())
            out.append(
                f"{'  ' * comment.depth}- **{md_escape(comment.author)}**: {md_escape(body)}"
            )
    else:
        out.append(_("No comments."))
    for amendment in record.amendments:
        out.append(
            f"- {amendment.get_state_display()}: {md_escape(amendment.criterion_id)} — "
            f"{md_escape(amendment.reason)}"
        )
    out += ["", f"## {_('The backtest at publish time')}", ""]
    if record.promise is not None:
        out += [_figures_line(c.label, c.promised) for c in record.comparisons]
    else:
        out.append(_("No finished backtest when this version was published."))
    out += ["", f"## {_('Shadow evidence at publish time')}", ""]
    if record.shadow:
        out.append(md_escape(str(record.shadow.get("summary", ""))))
    else:
        out.append(
            _(
                "No shadow run: this version's definition was not run in shadow on live "
                "leads before it was published."
            )
        )
    out += ["", f"## {_('The review since it went live')}", ""]
    out += [md_escape(sentence) for sentence in record.review.sentences]
    if record.review.drift:
        out += ["", f"**{md_escape(record.review.alarm)}**"]
    if record.review.row.computed_at is not None:
        out.append("")
        out += [_figures_line(c.label, c.observed) for c in record.comparisons]
    out.append("")
    return "\n".join(out)


def log_rows(rows: list[LogRow]) -> Iterator[list[object]]:
    """The decision log: one row per version, newest first."""
    yield [
        _("version"),
        _("published at"),
        _("published by"),
        _("proposal"),
        _("rationale"),
        _("agree"),
        _("abstain"),
        _("disagree"),
        _("block"),
        _("outcome of the vote"),
        _("promised F1 (outcomes)"),
        _("promised F1 low"),
        _("promised F1 high"),
        _("decided leads since"),
        _("observed F1 (outcomes)"),
        _("observed F1 (reps' verdicts)"),
        _("drift"),
        _("review"),
    ]
    for row in rows:
        review = row.review
        outcomes = next(c for c in review.comparisons if c.truth == "outcomes")
        verdicts = next(c for c in review.comparisons if c.truth == "verdicts")
        promised = outcomes.promised
        interval = promised.f1_interval if promised is not None else None
        yield [
            row.version.number,
            row.version.published_at.isoformat(),
            _person(row.version.published_by),
            row.proposal.title if row.proposal else "",
            row.proposal.rationale if row.proposal else "",
            row.tally.get("agree", 0),
            row.tally.get("abstain", 0),
            row.tally.get("disagree", 0),
            row.tally.get("block", 0),
            row.proposal.outcome if row.proposal else "",
            _f(promised.f1 if promised else None),
            _f(interval.low if interval else None),
            _f(interval.high if interval else None),
            review.decided if review.row.computed_at else "",
            _f(outcomes.observed.f1 if outcomes.observed else None),
            _f(verdicts.observed.f1 if verdicts.observed else None),
            _("yes") if review.drift else _("no"),
            review.sentence,
        ]


def _f(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"
