"""A form that creates something acts once, however often it is sent: a double click,
a resend after a slow answer, two tabs racing. The second submission is sent where the
first went, and nothing is made twice."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.models import ApiKey
from definitions import rules
from definitions.core.once import TOKEN_FIELD, submissions_forget
from definitions.models import Comment, FormSubmission, Invitation, Proposal, Workshop
from definitions.workshops import services as workshop_services
from feedback.models import ImportJob
from tests.factories import UserFactory, open_for_vote


@dataclass(frozen=True)
class Form:
    name: str
    url: Callable[[dict[str, Any]], str]
    data: Callable[[], dict[str, Any]]
    count: Callable[[], int]
    page: Callable[[dict[str, Any]], str]  # where the form is shown


def _file(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


FORMS = [
    Form(
        "new workshop",
        lambda o: reverse("definitions:workshop_create"),
        lambda: {"name": "Twice Co", "slug": "twice-co", "department": "sales"},
        lambda: Workshop.objects.count(),
        lambda o: reverse("definitions:workshop_create"),
    ),
    Form(
        "new draft",
        lambda o: reverse("definitions:draft_create", args=["acme"]),
        lambda: {},
        lambda: Proposal.objects.count(),
        lambda o: reverse("definitions:proposal_list", args=["acme"]),
    ),
    Form(
        "comment",
        lambda o: reverse("definitions:comment_add", args=["acme", o["proposal"].pk]),
        lambda: {"body": "Only once, please."},
        lambda: Comment.objects.count(),
        lambda o: reverse("definitions:proposal_detail", args=["acme", o["proposal"].pk]),
    ),
    Form(
        "invitation",
        lambda o: reverse("definitions:member_invite", args=["acme"]),
        lambda: {
            "invite-email": "newbie@example.com",
            "invite-role": "viewer",
            "invite-department": "sales",
        },
        lambda: Invitation.objects.count(),
        lambda o: reverse("definitions:member_list", args=["acme"]),
    ),
    Form(
        "API key",
        lambda o: reverse("api:key_list", args=["acme"]),
        lambda: {"name": "CRM sync"},
        lambda: ApiKey.objects.count(),
        lambda o: reverse("api:key_list", args=["acme"]),
    ),
    Form(
        "import upload",
        lambda o: reverse("feedback:import_list", args=["acme"]),
        lambda: {"kind": "leads", "file": _file("l.csv", b"ID,Name\nA1,Ann\n")},
        lambda: ImportJob.objects.count(),
        lambda o: reverse("feedback:import_list", args=["acme"]),
    ),
    Form(
        "draft import",
        lambda o: reverse("definitions:draft_import", args=["acme"]),
        lambda: {
            "title": "Imported",
            "file": _file("d.json", json.dumps(rules.WORKED_EXAMPLE).encode()),
        },
        lambda: Proposal.objects.count(),
        lambda o: reverse("definitions:draft_import", args=["acme"]),
    ),
]


@pytest.fixture
def setting(admin: Any, workshop: Workshop) -> dict[str, Any]:
    proposal = open_for_vote(admin, workshop, "Open")
    client = Client()
    client.force_login(admin)
    return {"proposal": proposal, "client": client}


@pytest.mark.django_db
@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.name)
def test_the_page_gives_the_form_a_one_time_token(form: Form, setting: dict[str, Any]) -> None:
    page = setting["client"].get(form.page(setting))
    assert page.status_code == 200
    assert f'name="{TOKEN_FIELD}"' in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.name)
def test_sending_the_same_form_twice_acts_once(form: Form, setting: dict[str, Any]) -> None:
    client, token = setting["client"], str(uuid.uuid4())
    before = form.count()
    page = form.page(setting)
    first = client.post(form.url(setting), {**form.data(), TOKEN_FIELD: token}, HTTP_REFERER=page)
    # Most forms redirect; the API key page answers at once (it shows the key once).
    assert first.status_code in (200, 302), first.content.decode()[:500]
    assert form.count() == before + 1
    second = client.post(form.url(setting), {**form.data(), TOKEN_FIELD: token}, follow=True)
    assert form.count() == before + 1
    went = first["Location"] if first.status_code == 302 else page
    assert second.redirect_chain[0][0] == went
    assert "already sent" in second.content.decode()


@pytest.mark.django_db
def test_a_refused_submission_leaves_its_token_for_the_corrected_one(
    setting: dict[str, Any],
) -> None:
    client, token = setting["client"], str(uuid.uuid4())
    url = reverse("api:key_list", args=["acme"])
    refused = client.post(url, {"name": "", TOKEN_FIELD: token})
    assert refused.status_code == 400
    assert not FormSubmission.objects.filter(token=token).exists()
    assert client.post(url, {"name": "CRM sync", TOKEN_FIELD: token}).status_code == 200
    assert ApiKey.objects.count() == 1


@pytest.mark.django_db
def test_a_comment_refused_with_a_message_does_not_spend_the_token(
    setting: dict[str, Any],
) -> None:
    client, token = setting["client"], str(uuid.uuid4())
    url = reverse("definitions:comment_add", args=["acme", setting["proposal"].pk])
    client.post(url, {"body": "   ", TOKEN_FIELD: token})
    client.post(url, {"body": "Now with words.", TOKEN_FIELD: token})
    assert list(Comment.objects.values_list("body", flat=True)) == ["Now with words."]


@pytest.mark.django_db
def test_a_token_is_one_users_only(setting: dict[str, Any], workshop: Workshop) -> None:
    """Another member replaying a token (copied from a page) spends nothing of theirs
    and learns nothing: they are sent to the start page."""
    client, token = setting["client"], str(uuid.uuid4())
    url = reverse("definitions:comment_add", args=["acme", setting["proposal"].pk])
    client.post(url, {"body": "Mine.", TOKEN_FIELD: token})
    other: Any = UserFactory(username="other-member")
    from definitions.roles import Department, Role
    from tests.factories import add_member

    add_member(workshop, other, Role.STAKEHOLDER, Department.SALES)
    intruder = Client()
    intruder.force_login(other)
    replay = intruder.post(url, {"body": "Theirs.", TOKEN_FIELD: token})
    assert replay.status_code == 302
    assert replay["Location"] == "/"
    assert Comment.objects.count() == 1


@pytest.mark.django_db
def test_a_post_without_a_token_acts_as_before(setting: dict[str, Any]) -> None:
    url = reverse("definitions:comment_add", args=["acme", setting["proposal"].pk])
    setting["client"].post(url, {"body": "One."})
    setting["client"].post(url, {"body": "One."})
    assert Comment.objects.count() == 2


@pytest.mark.django_db
def test_spent_tokens_are_forgotten_after_a_week(setting: dict[str, Any], admin: Any) -> None:
    old = FormSubmission.objects.create(token=uuid.uuid4(), user=admin)
    FormSubmission.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    fresh = FormSubmission.objects.create(token=uuid.uuid4(), user=admin)
    assert submissions_forget() == 1
    assert list(FormSubmission.objects.all()) == [fresh]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_sends_of_one_form_make_one_comment() -> None:
    """Two requests on two real PostgreSQL connections, released at the same moment."""
    assert connection.vendor == "postgresql"
    admin: Any = UserFactory(username="racer")
    workshop = workshop_services.workshop_create(actor=admin, name="Race", slug="race")
    proposal = open_for_vote(admin, workshop, "Race")
    url = reverse("definitions:comment_add", args=["race", proposal.pk])
    token = str(uuid.uuid4())
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def send() -> None:
        try:
            client = Client()
            client.force_login(admin)
            barrier.wait(timeout=10)
            statuses.append(client.post(url, {"body": "Race.", TOKEN_FIELD: token}).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [302, 302]
    assert Comment.objects.filter(proposal=proposal).count() == 1
