"""E-mails in the recipient's language (issue 23): each person's language is saved when
they switch while signed in and restored when they sign in anywhere; notifications are
written in the recipient's saved language, invitations in the invitee's or else the
inviting admin's, and everything else in English. Dates and numbers follow along."""

from __future__ import annotations

import io
import sys
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from definitions.accounts import services as account_services
from definitions.accounts.selectors import saved_language
from definitions.authoring import services as authoring_services
from definitions.deliberation import services as deliberation_services
from definitions.models import AccountSettings, Workshop
from definitions.notifications.services import emails_send, notify
from tests.factories import PASSWORD, UserFactory, logged_in

pytestmark = pytest.mark.django_db

ITALIAN_MONTHS = (
    "Gennaio", "Febbraio", "Marzo", "Aprile", "Maggio", "Giugno",
    "Luglio", "Agosto", "Settembre", "Ottobre", "Novembre", "Dicembre",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _locmem_mail(settings: Any) -> None:
    # Django's in-memory mailer: what was sent is in mail.outbox, nothing leaves.
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def by_recipient() -> dict[str, Any]:
    return {message.to[0]: message for message in mail.outbox}


def five_pm_in_two_days() -> datetime:
    """A closing time whose English form ends in "p.m." (the time zone is UTC)."""
    later = timezone.localtime() + timedelta(days=2)
    return later.replace(hour=17, minute=0, second=0, microsecond=0)


def open_proposal(admin: Any, workshop: Workshop, closes_at: datetime, capture: Any) -> None:
    proposal = authoring_services.proposal_create(actor=admin, workshop=workshop, title="BANT")
    with capture(execute=True):
        deliberation_services.proposal_open(
            actor=admin, proposal=proposal, closes_at=closes_at, rationale="r"
        )


# ------------------------------------------------------------------ notifications


def test_an_italian_and_a_japanese_member_get_the_notification_e_mail_in_their_language(
    admin: Any,
    workshop: Workshop,
    v1: Any,
    marketer: Any,
    seller: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    account_services.language_save(user=marketer, language="it")
    account_services.language_save(user=seller, language="ja")
    closes = five_pm_in_two_days()

    open_proposal(admin, workshop, closes, django_capture_on_commit_callbacks)

    italian = by_recipient()["marketer@example.com"]
    assert italian.subject.startswith("[Acme Instruments] “BANT” è aperta al voto (chiusura: ")
    assert f"{closes.day} {ITALIAN_MONTHS[closes.month - 1]} {closes.year} 17:00)." in (
        italian.subject
    )
    assert "è aperta al voto" in italian.body and "open for votes" not in italian.body
    japanese = by_recipient()["seller@example.com"]
    assert japanese.subject == (
        f"[Acme Instruments] 「BANT」の投票を受け付けています"
        f"（{closes.year}年{closes.month}月{closes.day}日17:00まで）。"  # noqa: RUF001  (the catalogue's own punctuation)
    )
    assert japanese.body.startswith("「BANT」の投票を受け付けています")


def test_a_member_who_never_chose_a_language_gets_english_without_a_double_period(
    admin: Any,
    workshop: Workshop,
    v1: Any,
    rep: Any,
    marketer: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    account_services.language_save(user=marketer, language="it")
    closes = five_pm_in_two_days()

    # Sent from a process in Italian: the sender's language is not the reader's.
    with translation.override("it"):
        open_proposal(admin, workshop, closes, django_capture_on_commit_callbacks)

    english = by_recipient()["rep@example.com"]
    assert english.subject == (
        f"[Acme Instruments] “BANT” is open for votes "
        f"(until {closes:%b}. {closes.day}, {closes.year}, 5 p.m.)."
    ) or english.subject == (  # May, a month whose short name takes no period
        f"[Acme Instruments] “BANT” is open for votes "
        f"(until {closes:%B} {closes.day}, {closes.year}, 5 p.m.)."
    )
    assert ".." not in english.subject and ".." not in english.body


def test_the_figures_of_a_notification_e_mail_are_written_the_readers_way(
    workshop: Workshop, marketer: Any, seller: Any
) -> None:
    account_services.language_save(user=marketer, language="fr")
    rows = notify(
        workshop=workshop,
        recipients=[marketer, seller],
        verb="version.drift",
        url="/w/acme/versions/2/record/#review",
        email=False,
        version=2,
        decided=1234,
        observed=0.3,
        promised=[0.9, 0.04],
    )
    type(rows[0]).objects.update(emailed_at=None)

    assert emails_send([row.pk for row in rows]) == 2

    french = by_recipient()["marketer@example.com"]
    assert french.subject == (
        "[Acme Instruments] La v2 ne tient pas sa promesse : sur les 1\N{NO-BREAK SPACE}234 "
        "leads tranchés depuis sa mise en service, F1 0,30, hors de l'intervalle promis par "
        "son backtest (0,90 ± 0,04)."
    )
    english = by_recipient()["seller@example.com"]
    assert "on 1,234 leads decided" in english.subject and "F1 0.30" in english.subject


# ------------------------------------------------------------------ invitations


def invite(client: Client, email: str, capture: Any) -> None:
    with capture(execute=True):
        response = client.post(
            reverse("definitions:member_invite", args=["acme"]),
            {"invite-email": email, "invite-role": "stakeholder", "invite-department": "sales"},
        )
    assert response.status_code in (200, 302)


def test_an_invitation_to_a_new_address_from_a_french_admin_is_in_french(
    admin: Any, workshop: Workshop, django_capture_on_commit_callbacks: Any
) -> None:
    account_services.language_save(user=admin, language="fr")

    invite(logged_in(admin), "nouvelle@example.com", django_capture_on_commit_callbacks)

    (message,) = mail.outbox
    assert message.to == ["nouvelle@example.com"]
    assert message.subject == "Vous êtes invité à rejoindre « Acme Instruments » sur Lead Workshop"
    assert "Ada vous a invité à rejoindre l’atelier « Acme Instruments » comme" in message.body  # noqa: RUF001  (the catalogue's own punctuation)
    assert "Le lien ne fonctionne qu’une fois (expiration : " in message.body  # noqa: RUF001  (the catalogue's own punctuation)
    assert "invited you" not in message.body


def test_an_invitation_to_an_account_that_chose_japanese_is_in_japanese(
    admin: Any, workshop: Workshop, django_capture_on_commit_callbacks: Any
) -> None:
    account_services.language_save(user=admin, language="fr")
    ken = UserFactory(username="ken", email="ken@example.com")
    account_services.language_save(user=ken, language="ja")

    invite(logged_in(admin), "ken@example.com", django_capture_on_commit_callbacks)

    (message,) = mail.outbox
    assert message.subject == "Lead Workshop の「Acme Instruments」への招待"
    assert "このリンクは一度だけ使えます（有効期限：" in message.body  # noqa: RUF001  (the catalogue's own punctuation)


def test_an_admin_without_a_saved_language_invites_in_the_language_of_their_page(
    admin: Any, workshop: Workshop, django_capture_on_commit_callbacks: Any
) -> None:
    client = logged_in(admin)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "pt"
    assert saved_language(admin) == ""

    invite(client, "nova@example.com", django_capture_on_commit_callbacks)

    (message,) = mail.outbox
    assert "convidou você para participar do workshop “Acme Instruments”" in message.body
    assert "O link funciona uma única vez (validade: " in message.body


# ------------------------------------------------------------------ the switch and sign-in


def sign_in(client: Client, username: str) -> Any:
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def test_switching_the_language_signed_in_saves_it_and_the_next_sign_in_restores_it(
    admin: Any,
) -> None:
    laptop = Client()
    sign_in(laptop, "admin")
    response = laptop.post(reverse("set_language"), {"language": "ja", "next": "/inbox/"})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert saved_language(admin) == "ja"

    phone = Client()  # another device, which has never seen the switch
    assert '<html lang="en">' in phone.get(reverse("login")).content.decode()
    response = sign_in(phone, "admin")
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "ja"
    page = phone.get("/")
    assert page.headers["Content-Language"] == "ja"
    assert '<html lang="ja">' in page.content.decode()


def test_signing_in_without_a_saved_language_keeps_the_browsers(admin: Any) -> None:
    client = Client()
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    response = sign_in(client, "admin")
    assert django_settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert client.get("/").headers["Content-Language"] == "fr"


def test_switching_the_language_logged_out_still_works_and_saves_nothing(admin: Any) -> None:
    client = Client()
    response = client.post(reverse("set_language"), {"language": "it", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "it"
    assert '<html lang="it">' in client.get(reverse("login")).content.decode()
    assert not AccountSettings.objects.exists()


def test_the_switch_never_sends_anyone_to_another_site(admin: Any) -> None:
    response = logged_in(admin).post(
        reverse("set_language"), {"language": "pt", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
    assert saved_language(admin) == "pt"


def test_a_language_the_site_does_not_offer_is_neither_set_nor_saved(admin: Any) -> None:
    client = logged_in(admin)
    response = client.post(reverse("set_language"), {"language": "de", "next": "/"})
    assert response.status_code == 302
    assert not AccountSettings.objects.exists()
    assert client.get("/").headers["Content-Language"] == "en"


# ------------------------------------------------------------------ the operator's command


def create_user(*args: str) -> str:
    out, previous = io.StringIO(), sys.stdin
    sys.stdin = io.StringIO("a-long-passphrase\n")
    try:
        call_command("create_user", *args, stdout=out, stderr=io.StringIO())
    finally:
        sys.stdin = previous
    return out.getvalue()


def test_an_operator_creates_a_user_with_their_language(db: None) -> None:
    create_user("chiara", "--email", "chiara@example.com", "--language", "it")
    assert AccountSettings.objects.get(user__username="chiara").language == "it"


def test_an_operator_cannot_give_a_language_the_site_does_not_offer(db: None) -> None:
    with pytest.raises(CommandError):
        create_user("hans", "--email", "hans@example.com", "--language", "de")
    assert not AccountSettings.objects.exists()
