from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

from definitions.accounts import services as account_services
from definitions.management.commands._operator import refusals_exit_2
from definitions.workshops import services as workshop_services


class Command(BaseCommand):
    help = (
        "Create a user who can log in. The password is read from standard input (one "
        "line), never from the command line. Exits 2 on a taken username, a bad e-mail "
        "or a password the validators refuse; nothing is saved then."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--staff", action="store_true", help="may use Django's admin and create accounts"
        )
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default="",
            help="the language of the user's pages and e-mails (else their browser's)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            validate_email(options["email"])
        except ValidationError:
            raise CommandError(
                f"{options['email']!r} is not an e-mail address.", returncode=2
            ) from None
        password = self.read_password()
        with refusals_exit_2(), transaction.atomic():
            user = workshop_services.user_create(
                username=options["username"],
                email=options["email"],
                password=password,
                first_name=options["first_name"],
                last_name=options["last_name"],
                staff=options["staff"],
            )
            if options["language"]:
                account_services.language_save(user=user, language=options["language"])
        self.stdout.write(f"user {user.pk} {user.get_username()}")

    def read_password(self) -> str:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError("Give the password on standard input.", returncode=2)
        return password
