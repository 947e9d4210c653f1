from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from definitions.management.commands._operator import (
    acting_admin,
    refusals_exit_2,
    user_by_name,
    workshop_by_slug,
)
from definitions.roles import Department, Role
from definitions.workshops import services as workshop_services


class Command(BaseCommand):
    help = (
        "Add an existing user to a workshop with a role and a department, in the name of "
        "its first admin (recorded in the audit log). An operator's command: on the web, "
        "members join by accepting an invitation. Exits 2 on bad input or an existing "
        "membership."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workshop", required=True, help="workshop slug")
        parser.add_argument("--user", required=True, help="username")
        parser.add_argument("--role", required=True, help=", ".join(Role.values))
        parser.add_argument("--department", required=True, help=", ".join(Department.values))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["role"] not in Role.values:
            raise CommandError(f"Role must be one of {', '.join(Role.values)}.", returncode=2)
        if options["department"] not in Department.values:
            raise CommandError(
                f"Department must be one of {', '.join(Department.values)}.", returncode=2
            )
        workshop = workshop_by_slug(options["workshop"])
        user = user_by_name(options["user"])
        with refusals_exit_2():
            membership = workshop_services.member_add(
                actor=acting_admin(workshop),
                workshop=workshop,
                user=user,
                role=options["role"],
                department=options["department"],
            )
        self.stdout.write(f"member {membership.pk} {user.get_username()} {membership.role}")
