"""Setting a workshop up from the command line, as automation does: a user, a
workshop with its admin, members, and the first version, each with exit code 2 and a
clear message on bad input, and nothing saved then."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from definitions import rules
from definitions.models import AuditLogEntry, Membership, Version, Workshop

pytestmark = pytest.mark.django_db


def run(name: str, *args: str, stdin: str = "") -> str:
    out = io.StringIO()
    previous = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command(name, *args, stdout=out, stderr=io.StringIO())
    finally:
        sys.stdin = previous
    return out.getvalue().strip()


def refused(name: str, *args: str, stdin: str = "") -> str:
    with pytest.raises(CommandError) as error:
        run(name, *args, stdin=stdin)
    assert error.value.returncode == 2
    return str(error.value)


def test_an_operator_sets_a_workshop_up_from_nothing(tmp_path: Path) -> None:
    assert run("create_user", "ada", "--email", "ada@example.com", stdin="a-long-passphrase\n")
    run("create_user", "rick", "--email", "rick@example.com", stdin="another-long-one\n")
    assert run("create_workshop", "--name", "Acme", "--admin", "ada") == "workshop acme"
    run("add_member", "--workshop", "acme", "--user", "rick", "--role", "sales_rep",
        "--department", "sales")  # fmt: skip
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(rules.WORKED_EXAMPLE))
    assert run("publish_first_version", "--workshop", "acme", str(path)) == "version 1"

    workshop = Workshop.objects.get(slug="acme")
    assert Membership.objects.get(workshop=workshop, user__username="rick").role == "sales_rep"
    assert Version.objects.get(workshop=workshop).number == 1
    actions = set(AuditLogEntry.objects.filter(workshop=workshop).values_list("action", flat=True))
    assert {"definitions.member.added", "definitions.version.published"} <= actions
    assert get_user_model().objects.get(username="ada").check_password("a-long-passphrase")


def test_each_command_refuses_bad_input_with_exit_2_and_saves_nothing(
    tmp_path: Path, admin: Any, workshop: Workshop, rep: Any
) -> None:
    assert "not an e-mail" in refused("create_user", "x", "--email", "nope", stdin="pw-long-one\n")
    assert "standard input" in refused("create_user", "x", "--email", "x@example.com")
    assert "password" in refused("create_user", "x", "--email", "x@example.com", stdin="123\n")
    assert "taken" in refused(
        "create_user", "admin", "--email", "a@example.com", stdin="a-long-pass\n"
    )
    assert "No user" in refused("create_workshop", "--name", "B", "--admin", "ghost")
    assert "taken" in refused(
        "create_workshop", "--name", "A", "--slug", "acme", "--admin", "admin"
    )
    assert "Department" in refused(
        "create_workshop", "--name", "B", "--admin", "admin", "--department", "hr"
    )
    assert "Role" in refused(
        "add_member",
        "--workshop",
        "acme",
        "--user",
        "rep",
        "--role",
        "boss",
        "--department",
        "sales",
    )
    assert "already a member" in refused(
        "add_member", "--workshop", "acme", "--user", "rep", "--role", "viewer",
        "--department", "sales",
    )  # fmt: skip
    assert "No workshop" in refused(
        "add_member",
        "--workshop",
        "nope",
        "--user",
        "rep",
        "--role",
        "viewer",
        "--department",
        "sales",
    )
    broken = tmp_path / "broken.json"
    broken.write_text(
        '{"schema_version": 1, "qualify": {"id": "g", "all": [{"id": "c", "field": "nope"}]}}'
    )
    assert "nothing published" in refused(
        "publish_first_version", "--workshop", "acme", str(broken)
    )
    assert "Cannot read" in refused(
        "publish_first_version", "--workshop", "acme", str(tmp_path / "x")
    )
    assert not Version.objects.filter(workshop=workshop).exists()
    assert get_user_model().objects.filter(username="x").count() == 0
    assert not Workshop.objects.filter(name="B").exists()
    good = tmp_path / "v1.json"
    good.write_text(json.dumps(rules.WORKED_EXAMPLE))
    run("publish_first_version", "--workshop", "acme", str(good))
    assert "already has a published version" in refused(
        "publish_first_version", "--workshop", "acme", str(good)
    )


@pytest.mark.parametrize(
    "name", ["create_user", "create_workshop", "add_member", "publish_first_version"]
)
def test_every_operator_command_explains_itself(name: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        call_command(name, "--help", stdout=io.StringIO())
    assert exit_.value.code == 0
