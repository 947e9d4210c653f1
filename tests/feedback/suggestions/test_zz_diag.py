import json
import os
from typing import Any

import pytest

from definitions.models import Workshop
from feedback.models import Lead
from feedback.suggestions.discovery import discover
from feedback.suggestions.types import Goal
from tests.factories import WorkshopFactory

from .planted import plant
from .test_discovery import planted_validation_f1

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("k", range(int(os.environ.get("DIAG_N", "4"))))
def test_diag(admin: Any, k: int) -> None:
    target = os.environ.get("DIAG_TARGET", "outcome")
    rep = None
    ws = WorkshopFactory(actor=admin, name=f"W{k}", slug=f"w{k}")
    if target == "verdict":
        from definitions.roles import Department, Role
        from tests.conftest import add_member
        from tests.factories import UserFactory
        rep = add_member(ws, UserFactory(username=f"rep{k}"), Role.SALES_REP, Department.SALES)
    # shift ids so that the split differs
    version, predicted = plant(ws, admin, leads=int(os.environ.get("DIAG_LEADS", "20000")), target=target, rep=rep, seed=int(os.environ.get("DIAG_SEED", "11")) + k)
    d = discover(ws, version, Goal(target=target))
    best = planted_validation_f1(ws, predicted, target)
    rec = d.recommended
    print(f"\nDIAG k={k} best={best:.3f} rec={rec.after.f1 if rec else None:.3f} gap={best-(rec.after.f1 if rec else 0):.3f} secs={d.seconds:.1f}")
    if rec:
        print(json.dumps(list(rec.changes))[:3000])
