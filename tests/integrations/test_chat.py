"""Chat notifications posted to a real HTTP server on loopback, standing in for Slack
and Microsoft Teams: the workshop's language, a link back, people's text inert."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from definitions.deliberation import services as deliberation_services
from definitions.models import Proposal, Workshop
from integrations import services
from integrations.models import ChatSettings
from tests.factories import open_for_vote
from tests.integrations.conftest import Receiver, publish_worked_example

pytestmark = pytest.mark.django_db


def _chat(admin: Any, workshop: Workshop, receiver: Receiver, language: str) -> ChatSettings:
    return services.chat_settings_update(
        actor=admin,
        workshop=workshop,
        language=language,
        slack_url=receiver.url + "/slack",
        teams_url=receiver.url + "/teams",
    )


def _posts(receiver: Receiver, count: int) -> dict[str, Any]:
    """The messages by channel (the last one of each)."""
    requests = receiver.wait_for(count)
    return {r.path.rsplit("/", 1)[1]: json.loads(r.body) for r in requests}


def _teams_text(message: dict[str, Any]) -> str:
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return " ".join(block["text"] for block in attachment["content"]["body"])


def test_a_published_version_is_announced_in_italian_on_slack_and_teams(
    admin: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _chat(admin, workshop, receiver, "it")
    publish_worked_example(admin, workshop, django_capture_on_commit_callbacks)
    posts = _posts(receiver, 2)
    link = "http://127.0.0.1:8000/w/acme/versions/1/"
    assert posts["slack"]["text"].startswith(
        "*Acme Instruments* · La versione v1 della definizione di lead è stata pubblicata."
    )
    # The link back (its label is in Italian too once the catalogue has it).
    assert f"\n<{link}|" in posts["slack"]["text"]
    teams = posts["teams"]
    assert "La versione v1 della definizione di lead è stata pubblicata" in _teams_text(teams)
    [action] = teams["attachments"][0]["content"]["actions"]
    assert action["url"] == link


def test_a_proposal_open_for_votes_asks_for_votes_in_english(
    admin: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    publish_worked_example(admin, workshop, django_capture_on_commit_callbacks)
    _chat(admin, workshop, receiver, "en")
    with django_capture_on_commit_callbacks(execute=True):
        proposal = open_for_vote(admin, workshop, title="Stricter BANT")
    posts = _posts(receiver, 4)  # open_for_vote publishes v2 first, then opens the vote
    slack = [json.loads(r.body)["text"] for r in receiver.requests if r.path.endswith("/slack")]
    vote = next(text for text in slack if "needs your vote" in text)
    assert vote.startswith("*Acme Instruments* · “Stricter BANT” needs your vote: voting closes ")
    assert f"<http://127.0.0.1:8000/w/acme/proposals/{proposal.pk}/|Open in Lead Workshop>" in vote
    assert posts["teams"]


def test_closing_within_a_day_is_announced_in_the_workshop_language_not_the_readers(
    admin: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        proposal = open_for_vote(admin, workshop, title="Soglia MQL")
    _chat(admin, workshop, receiver, "it")
    Proposal.objects.filter(pk=proposal.pk).update(closes_at=timezone.now() + timedelta(hours=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert deliberation_services.proposals_remind_closing() == 1  # the beat task's step
    posts = _posts(receiver, 2)
    assert "Il voto su “Soglia MQL” si chiude entro 24 ore (" in posts["slack"]["text"]
    assert "Il voto su “Soglia MQL” si chiude entro 24 ore" in _teams_text(posts["teams"])
    # Reminded once: the next run of the task says nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert deliberation_services.proposals_remind_closing() == 0
    assert len(receiver.requests) == 2


def test_titles_cannot_mention_everyone_or_forge_links(
    admin: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    publish_worked_example(admin, workshop, django_capture_on_commit_callbacks)
    _chat(admin, workshop, receiver, "en")
    title = "<!channel> [win](https://evil.example) <https://evil.example|click> & co"
    with django_capture_on_commit_callbacks(execute=True):
        open_for_vote(admin, workshop, title=title)
    slack = next(
        json.loads(r.body)["text"]
        for r in receiver.wait_for(4)  # v2 published (by open_for_vote), then the vote
        if r.path.endswith("/slack") and "needs your vote" in r.body.decode()
    )
    assert "<!channel>" not in slack and "<https://evil" not in slack
    assert "&lt;!channel&gt;" in slack and "&amp; co" in slack
    teams = next(
        json.loads(r.body)
        for r in receiver.requests
        if r.path.endswith("/teams") and "needs your vote" in r.body.decode()
    )
    assert "[win](https://evil.example)" not in _teams_text(teams)
    assert "\\[win\\]\\(https://evil\\.example\\)" in _teams_text(teams)


def test_a_refusing_chat_service_is_retried(
    admin: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    services.chat_settings_update(
        actor=admin, workshop=workshop, language="en", slack_url=receiver.url, teams_url=None
    )
    receiver.statuses = [503]
    publish_worked_example(admin, workshop, django_capture_on_commit_callbacks)
    first, second = receiver.wait_for(2)
    assert first.body == second.body


def test_chat_urls_are_stored_encrypted_and_checked_like_webhooks(
    admin: Any, workshop: Workshop, receiver: Receiver, settings: Any
) -> None:
    with pytest.raises(ValidationError) as refused:
        services.chat_settings_update(
            actor=admin,
            workshop=workshop,
            language="it",
            slack_url="https://127.0.0.1/services/T000/B000/XXX",
            teams_url=None,
        )
    assert "only public addresses" in refused.value.message_dict["slack_url"][0]
    assert not ChatSettings.objects.exists()
    settings.INTEGRATIONS_ALLOW_HTTP = True
    settings.INTEGRATIONS_ALLOW_PRIVATE_ADDRESSES = True
    chat = _chat(admin, workshop, receiver, "fr")
    assert receiver.url not in chat.slack_url_encrypted
    # None keeps a stored URL, "" removes it.
    chat = services.chat_settings_update(
        actor=admin, workshop=workshop, language="fr", slack_url=None, teams_url=""
    )
    assert chat.slack_url_encrypted and not chat.teams_url_encrypted
    with pytest.raises(ValidationError) as refused:
        services.chat_settings_update(
            actor=admin, workshop=workshop, language="xx", slack_url=None, teams_url=None
        )
    assert "language" in refused.value.message_dict
