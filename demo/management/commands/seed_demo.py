from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from definitions.models import Workshop
from demo.data import DEMO_PASSWORD, DEMO_USERS, seed_demo


class Command(BaseCommand):
    help = "Create the demo workshop 'Acme Instruments' (slug acme) with one user per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has any workshop.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Workshop.objects.exists():
            self.stdout.write("Database already has workshops; demo data not loaded.")
        elif seed_demo() is None:
            self.stdout.write("The demo workshop 'acme' exists already.")
        else:
            self.stdout.write(self.style.SUCCESS("Demo workshop 'Acme Instruments' created."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for demo in DEMO_USERS:
            self.stdout.write(f"  {demo.username:<10} {demo.role:<12} {demo.department}")
