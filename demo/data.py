"""The demo workshop: Acme Instruments, the source articles' maker of temperature and
humidity instruments. Built only through services, so it exercises the real paths."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.deliberation import services as deliberation_services
from definitions.models import Proposal, Workshop
from definitions.roles import Department, Role
from definitions.versions import services as version_services
from definitions.workshops import services as workshop_services
from feedback.backtests.services import backtest_run_inline, backtest_start
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from feedback.models import Lead, LeadResult
from feedback.shadows.services import shadow_start
from feedback.verdicts.selectors import queue_run
from feedback.verdicts.services import verdict_record

DEMO_SLUG = "acme"
DEMO_LEADS = 5000
# Of those, the last ones arrive while the sales draft runs in shadow: this week's leads.
DEMO_LIVE_LEADS = 150
DEMO_PASSWORD = "acme-workshop-demo"  # noqa: S105  (printed on purpose: demo logins)


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    department: str


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Ada", "Admin", Role.ADMIN, Department.MARKETING),
    DemoUser("marketer", "Marco", "Rossi", Role.STAKEHOLDER, Department.MARKETING),
    DemoUser("seller", "Sofia", "Almeida", Role.STAKEHOLDER, Department.SALES),
    DemoUser("leader", "Léa", "Martin", Role.STAKEHOLDER, Department.LEADERSHIP),
    DemoUser("rep", "Ren", "Tanaka", Role.SALES_REP, Department.SALES),
    DemoUser("viewer", "Vic", "Viewer", Role.VIEWER, Department.OTHER),
)


@transaction.atomic
def seed_demo(*, leads: int = DEMO_LEADS) -> Workshop | None:
    """Create the demo workshop and its users; None if it already exists. Tests that
    only need its shape pass fewer `leads`."""
    if Workshop.objects.filter(slug=DEMO_SLUG).exists():
        return None
    user_model = get_user_model()
    users = {}
    for demo in DEMO_USERS:
        existing = user_model.objects.filter(username=demo.username).first()
        users[demo.username] = existing or workshop_services.user_create(
            username=demo.username,
            email=f"{demo.username}@acme-instruments.example",
            password=DEMO_PASSWORD,
            first_name=demo.first_name,
            last_name=demo.last_name,
        )
    admin_demo = DEMO_USERS[0]
    admin = users[admin_demo.username]
    workshop = workshop_services.workshop_create(
        actor=admin,
        name="Acme Instruments",
        slug=DEMO_SLUG,
        description=(
            "Temperature and humidity measurement instruments. Marketing, sales and "
            "leadership agree here on what a sales lead is."
        ),
        department=admin_demo.department,
    )
    for demo in DEMO_USERS[1:]:
        workshop_services.member_add(
            actor=admin,
            workshop=workshop,
            user=users[demo.username],
            role=demo.role,
            department=demo.department,
        )
    # v1 is the articles' worked example; sales proposes a stricter, BANT-based draft.
    v1 = version_services.version_publish_document(
        actor=admin,
        workshop=workshop,
        document=rules.WORKED_EXAMPLE,
        parent=None,
        note="The worked example of the source articles.",
    )
    draft = authoring_services.proposal_create(
        actor=users["seller"],
        workshop=workshop,
        title="Sales-leaning: BANT before handover",
        document=rules.SALES_LEANING_EXAMPLE,
        parent=v1,
    )
    _discuss(draft, users)
    # The newest leads arrive while the draft runs in shadow, so they show what it would
    # do to them (fewer when a smaller demo is asked for, e.g. by the screens test).
    live = min(DEMO_LIVE_LEADS, leads // 4)
    leads_insert_generated(workshop=workshop, leads=generate(leads - live, seed=2026))
    shadow_start(actor=users["seller"], proposal=draft)
    leads_insert_generated(
        workshop=workshop,
        leads=generate(live, seed=2027, now=timezone.now(), id_prefix="W"),
    )
    # Backtest v1 and the draft right away, so the demo opens with evidence to read.

    for target in ({"version": v1}, {"proposal": draft}):
        backtest_run_inline(backtest_start(actor=admin, workshop=workshop, enqueue=False, **target))
    _judge(workshop, users["rep"])
    return workshop


def _judge(workshop: Workshop, rep: User, count: int = 300) -> None:
    """The rep's verdicts on v1's newest qualified leads, and a few missed ones, so the
    accuracy pages have something to say on first run. A rep knows what became of a
    lead and why the others were no good; the reasons follow the lead's data."""

    _version, run = queue_run(workshop)
    if run is None:
        return
    qualified = LeadResult.objects.filter(run=run, qualified=True).values("lead_id")
    for lead in Lead.objects.filter(pk__in=qualified).order_by("-id")[:count]:
        if lead.converted or lead.reached_stage in ("opportunity", "customer"):
            verdict_record(actor=rep, lead=lead, verdict="good")
            continue
        if lead.email_domain_kind == "edu":
            reason = "student"
        elif lead.email_domain_kind == "free":
            reason = "b2c"
        elif (lead.annual_revenue or 0) < 50e6:
            reason = "too_small"
        elif lead.budget == "none":
            reason = "no_budget"
        else:
            reason = ("no_need", "bad_timing", "wrong_industry")[lead.pk % 3]
        verdict_record(actor=rep, lead=lead, verdict="not_lead", reason=reason)
    rejected = LeadResult.objects.filter(run=run, qualified=False).values("lead_id")
    for lead in Lead.objects.filter(pk__in=rejected, converted=True).order_by("-id")[:20]:
        verdict_record(actor=rep, lead=lead, verdict="missed", note="Closed without us.")


def _discuss(proposal: Proposal, users: dict[str, User]) -> None:
    """Put the sales draft mid-discussion: open, two votes for, one against, a
    thread anchored to a criterion, and a pending amendment."""
    deliberation_services.policy_update(
        actor=users["admin"],
        workshop=proposal.workshop,
        quorum_percent=60,
        required_departments=["marketing", "sales"],
        majority_percent=50,
        block_vetoes=True,
        default_voting_days=7,
    )
    proposal = deliberation_services.proposal_open(
        actor=users["seller"],
        proposal=proposal,
        closes_at=timezone.now() + timedelta(days=5),
        rationale=(
            "Reps call every webinar attendee and most never buy. Ask for **BANT** before "
            "handover: decision maker, confirmed need, buying within six months."
        ),
    )
    deliberation_services.vote_cast(actor=users["seller"], proposal=proposal, choice="agree")
    deliberation_services.vote_cast(
        actor=users["leader"],
        proposal=proposal,
        choice="agree",
        reason="Fewer, better leads is what the board asked for.",
    )
    deliberation_services.vote_cast(
        actor=users["marketer"],
        proposal=proposal,
        choice="disagree",
        reason="Dropping webinar attendees throws away our best channel.",
    )
    comment = deliberation_services.comment_add(
        actor=users["marketer"],
        proposal=proposal,
        body="Is a **$500M** revenue floor right? Half our 2025 customers are smaller.",
        criterion_id="revenue",
    )
    deliberation_services.comment_add(
        actor=users["seller"],
        proposal=proposal,
        body="Fair point, let's look at the backtest before we argue.",
        parent=comment,
    )
    deliberation_services.amendment_suggest(
        actor=users["marketer"],
        proposal=proposal,
        criterion_id="revenue",
        replacement={
            "category": "firmographic",
            "field": "annual_revenue",
            "op": "gte",
            "value": 300000000,
            "points": 10,
        },
        reason="Keep the articles' $300M floor until the data says otherwise.",
    )
