from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from definitions.roles import Department, Role

MAX_DECISION_DAYS = 365
MAX_SHADOW_DAYS = 365
# A version's review (feedback.reviews) needs at least this many decided leads.
MIN_REVIEW_LEADS = 10
MAX_REVIEW_LEADS = 1_000_000


class HandoffStage(models.TextChoices):
    QUALIFIED = "qualified", _("Qualified")
    MQL = "mql", _("MQL")
    SQL = "sql", _("SQL")


class Workshop(models.Model):
    """One company's (or business unit's) effort to define a lead."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # When an import or the API last changed a lead or an activity: a backtest run
    # older than this is stale.
    leads_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The stage from which a lead goes to sales: what the accuracy headline, the reps'
    # queue and the run comparison measure.
    handoff_stage = models.CharField(
        _("handoff stage"),
        max_length=10,
        choices=HandoffStage.choices,
        default=HandoffStage.MQL,
    )
    # A historical lead is judged as of its creation plus this many days (never later
    # than the backtest's own moment): what was known when the decision was made.
    decision_days = models.PositiveSmallIntegerField(
        _("decision window (days)"),
        default=14,
        validators=[MaxValueValidator(MAX_DECISION_DAYS)],
    )
    # A shadow run (feedback.shadows) stops by itself after this many days.
    shadow_days = models.PositiveSmallIntegerField(
        _("shadow runs last (days)"),
        default=30,
        validators=[MaxValueValidator(MAX_SHADOW_DAYS)],
    )
    # How many leads decided (an outcome or a verdict) since a version went live make
    # its review: then members are told once and the home page shows it.
    review_min_leads = models.PositiveIntegerField(
        _("decided leads before a version is reviewed"),
        default=200,
        validators=[
            MinValueValidator(MIN_REVIEW_LEADS),
            MaxValueValidator(MAX_REVIEW_LEADS),
        ],
    )

    # Not a column: the permission codenames of the requesting user, set by
    # definitions.workshops.access.get_workshop_for_user for the rest of the request.
    user_perms: frozenset[str] = frozenset()

    class Meta:
        ordering = ["name"]
        permissions = [
            ("manage_members", "Manage members"),
            ("propose_definition", "Propose and amend definitions"),
            ("vote", "Vote on proposals"),
            ("comment", "Comment"),
            ("give_feedback", "Give feedback on leads"),
            ("import_leads", "Import leads"),
            ("publish_version", "Publish versions"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    department = models.CharField(_("department"), max_length=20, choices=Department.choices)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workshop", "user"], name="one_membership_per_user")
        ]
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.workshop} ({self.role})"


class AuditLogEntry(models.Model):
    """Who did what, when. Rows are only ever appended (see definitions.core.audit)."""

    workshop = models.ForeignKey(
        Workshop, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_entries"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Kept so the log stays readable after the actor's account is deleted.
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workshop", "-created_at"], name="audit_workshop_recent")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    CHOICE = "choice", _("Choice")
    NUMBER = "number", _("Number")
    BOOLEAN = "boolean", _("Yes/no")
    DATE = "date", _("Date")


class FieldCategory(models.TextChoices):
    FORMAT = "format", _("Format")
    DEMOGRAPHIC = "demographic", _("Demographic")
    FIRMOGRAPHIC = "firmographic", _("Firmographic")
    BEHAVIOURAL = "behavioural", _("Behavioural")
    BANT = "bant", _("BANT")
    OUTCOME = "outcome", _("Outcome")


class CustomField(models.Model):
    """A lead field a workshop adds to the built-in catalog (definitions.rules.catalog)."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="custom_fields")
    key = models.SlugField(_("key"), max_length=64)
    label = models.CharField(_("label"), max_length=120)
    type = models.CharField(_("type"), max_length=10, choices=FieldType.choices)
    category = models.CharField(_("category"), max_length=20, choices=FieldCategory.choices)
    choices = models.JSONField(_("allowed values"), default=list, blank=True)
    # Known only after the outcome (a field the CRM fills once the deal is decided):
    # discovery never uses it, and the builder warns next to a criterion that does.
    after_outcome = models.BooleanField(_("known only after the outcome"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["workshop", "key"], name="custom_field_key_unique")
        ]

    def __str__(self) -> str:
        return self.label


class ActivityKind(models.Model):
    """An activity kind a workshop adds to the default catalog."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="activity_kinds")
    key = models.SlugField(_("key"), max_length=64)
    label = models.CharField(_("label"), max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["workshop", "key"], name="activity_kind_key_unique")
        ]

    def __str__(self) -> str:
        return self.label


class Version(models.Model):
    """An immutable, numbered snapshot of a definition. The highest published number
    is the workshop's current definition; a rollback publishes old content anew."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    published_at = models.DateTimeField(auto_now_add=True)
    # A restore publishes an earlier version's text again: that version's backtest
    # still describes this one while the leads have not changed since.
    restored_from = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="restorations"
    )

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["workshop", "number"], name="version_number_unique")
        ]

    def __str__(self) -> str:
        return f"v{self.number}"

    def save(self, *args: object, **kwargs: object) -> None:
        # Guard in the model too: a published version's content never changes, whatever
        # code path tries. Services create versions; nothing updates them.
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PublishedVersionIsImmutable(self)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class PublishedVersionIsImmutable(Exception):
    def __init__(self, version: Version) -> None:
        super().__init__(f"Version v{version.number} is published and cannot change.")


class ProposalState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for votes")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    PUBLISHED = "published", _("Published")


class Proposal(models.Model):
    """A draft definition derived from a parent version. While it is a draft its
    document is edited in the builder; `revision` grows with every save so two people
    editing at once never silently overwrite each other."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="proposals")
    title = models.CharField(_("title"), max_length=200)
    document = models.JSONField()
    parent = models.ForeignKey(
        Version, on_delete=models.PROTECT, null=True, blank=True, related_name="proposals"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    state = models.CharField(
        max_length=20, choices=ProposalState.choices, default=ProposalState.DRAFT
    )
    revision = models.PositiveIntegerField(default=1)
    rationale = models.TextField(_("why this change"), blank=True, max_length=20000)
    opened_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(_("voting closes"), null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(_("outcome statement"), blank=True)
    published_version = models.OneToOneField(
        Version, on_delete=models.PROTECT, null=True, blank=True, related_name="source_proposal"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # A proposal to restore an earlier version (a rollback decided by vote).
    restores = models.ForeignKey(
        Version, on_delete=models.PROTECT, null=True, blank=True, related_name="restore_proposals"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title


class ProposalRevision(models.Model):
    """The document as it stood when the proposal opened, and after each accepted
    amendment; votes name the revision they were cast on."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "number"], name="revision_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.proposal} r{self.number}"


class VoteChoice(models.TextChoices):
    AGREE = "agree", _("Agree")
    ABSTAIN = "abstain", _("Abstain")
    DISAGREE = "disagree", _("Disagree")
    BLOCK = "block", _("Block")


class Vote(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The voter's department when voting: the tally must not move when someone
    # changes department later.
    department = models.CharField(max_length=20, choices=Department.choices)
    choice = models.CharField(max_length=10, choices=VoteChoice.choices)
    reason = models.TextField(blank=True, max_length=5000)
    revision = models.PositiveIntegerField()
    cast_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cast_at"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "voter"], name="one_vote_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.voter} {self.choice} on {self.proposal}"


class Comment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    criterion_id = models.CharField(max_length=64, blank=True)
    body = models.TextField(max_length=10000)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.proposal}"


class AmendmentState(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class Amendment(models.Model):
    """A suggested change to one criterion of an open proposal."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="amendments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    criterion_id = models.CharField(max_length=64)
    replacement = models.JSONField()
    reason = models.TextField(max_length=5000)
    state = models.CharField(
        max_length=10, choices=AmendmentState.choices, default=AmendmentState.PENDING
    )
    response = models.TextField(blank=True, max_length=5000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"amendment {self.pk} to {self.criterion_id}"


class ConsensusPolicy(models.Model):
    """How a workshop decides. Each rule is checked when a vote closes."""

    workshop = models.OneToOneField(Workshop, on_delete=models.CASCADE, related_name="policy")
    quorum_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("quorum (% of voters who vote)"),
        default=50,
    )
    required_departments = models.JSONField(_("departments that must agree"), default=list)
    majority_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("agree must exceed this % of agree + disagree"),
        default=50,
    )
    block_vetoes = models.BooleanField(_("a standing block rejects the proposal"), default=True)
    default_voting_days = models.PositiveSmallIntegerField(
        _("default voting period (days)"), default=7
    )
    hide_tallies = models.BooleanField(
        _("hide the running tally until the vote closes"), default=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"policy of {self.workshop}"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="+")
    verb = models.CharField(max_length=60)
    params = models.JSONField(default=dict)
    url = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set once the e-mail copy is sent; a periodic sweep sends any the queue missed.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return f"{self.verb} for {self.recipient}"


class FormSubmission(models.Model):
    """The one-time token of a rendered form, spent by the first POST that carried it.
    A second POST of the same form (a double click, a resend after a slow answer) is
    answered with where the first one went, instead of acting twice."""

    token = models.UUIDField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    location = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return str(self.token)


class RateLimitEvent(models.Model):
    """One expensive action taken by one account (an upload, a new workshop, a
    backtest, an invitation), kept for the length of its rate-limit window.

    In the database rather than a cache so that every web process and worker counts
    the same events, on SQLite as on PostgreSQL (see definitions.core.ratelimits)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=40)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "action", "at"], name="ratelimit_user_action_at")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class InvitationState(models.TextChoices):
    PENDING = "pending", _("pending")
    ACCEPTED = "accepted", _("accepted")
    DECLINED = "declined", _("declined")
    REVOKED = "revoked", _("revoked")


class Invitation(models.Model):
    """An admin's offer of a role in a workshop to whoever holds an e-mail address.
    Nobody becomes a member without accepting one (membership by consent).

    The link's secret is never stored: `token_digest` is its SHA-256 (the token is 256
    random bits, so a fast hash is enough, as for API keys). Leaving `pending` is a
    conditional UPDATE, so a link acts once however often it is followed."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="invitations")
    # Lower-cased; compared with the account's e-mail case-insensitively.
    email = models.EmailField(_("e-mail"), max_length=254)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    department = models.CharField(_("department"), max_length=20, choices=Department.choices)
    token_digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    state = models.CharField(
        max_length=10, choices=InvitationState.choices, default=InvitationState.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            # Inviting the same address again refreshes its pending invitation.
            models.UniqueConstraint(
                fields=["workshop", "email"],
                condition=models.Q(state="pending"),
                name="one_pending_invitation_per_address",
            )
        ]
        indexes = [models.Index(fields=["email", "state"], name="invitation_email_state")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.workshop} ({self.state})"


class AccountSettings(models.Model):
    """A person's own choices that outlive a browser: the language they read the app
    and their e-mails in. One row per account, made the first time they choose."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_settings"
    )
    # Blank: not chosen; the browser's language and the site default apply.
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )

    def __str__(self) -> str:
        return f"{self.user_id} {self.language or '-'}"
