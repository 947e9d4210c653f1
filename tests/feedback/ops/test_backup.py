"""The backup and its restore drill, against the real PostgreSQL test database."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest

from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from tests.conftest import ROOT, _test_database_url
from tests.factories import UserFactory, WorkshopFactory


@pytest.mark.services
def test_a_backup_restores_into_a_fresh_database_with_every_row(transactional_db: None) -> None:
    admin: Any = UserFactory(username="backup-admin")
    workshop: Any = WorkshopFactory(actor=admin, name="Backed up", slug="backed-up")
    leads_insert_generated(workshop=workshop, leads=generate(50, seed=1))
    result = subprocess.run(
        ["scripts/restore_drill.sh"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": _test_database_url()},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "every row count matches" in result.stdout
