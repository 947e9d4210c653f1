from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from definitions.management.commands._operator import refusals_exit_2, user_by_name
from definitions.roles import Department
from definitions.workshops import services as workshop_services


class Command(BaseCommand):
    help = (
        "Create a workshop with USERNAME as its first admin. Prints 'workshop <slug>'. "
        "Exits 2 on an unknown user, a taken short name or a bad department."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", default="", help="short name (default: from the name)")
        parser.add_argument("--admin", required=True, help="username of the first admin")
        parser.add_argument(
            "--department", default=Department.OTHER, help=", ".join(Department.values)
        )
        parser.add_argument("--description", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["department"] not in Department.values:
            raise CommandError(
                f"Department must be one of {', '.join(Department.values)}.", returncode=2
            )
        admin = user_by_name(options["admin"])
        with refusals_exit_2():
            workshop = workshop_services.workshop_create(
                actor=admin,
                name=options["name"],
                slug=options["slug"],
                description=options["description"],
                department=options["department"],
                rate_limited=False,  # an operator's command, not the web page
            )
        self.stdout.write(f"workshop {workshop.slug}")
