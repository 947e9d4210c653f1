from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from leadworkshop.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("raw", ["maybe", "2", "tru"])
def test_a_boolean_setting_with_a_bad_value_stops_the_process(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("SOME_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        env_bool("SOME_FLAG", False)


def test_a_number_setting_must_be_whole_and_not_below_its_minimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("N", "ten")
    with pytest.raises(ImproperlyConfigured, match="N='ten'"):
        env_int("N", 1)
    monkeypatch.setenv("N", "-1")
    with pytest.raises(ImproperlyConfigured, match="minimum"):
        env_int("N", 1, minimum=0)


def test_lists_are_read_from_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTS", " a.example , b.example,, ")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]


def _check_deploy(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_settings_pass_the_deploy_check(tmp_path: Path) -> None:
    # As after the documented `collectstatic` (its manifest is what the check looks for).
    (tmp_path / "staticfiles").mkdir()
    (tmp_path / "staticfiles" / "staticfiles.json").write_text('{"version": "1.1", "paths": {}}')
    result = _check_deploy(
        DEBUG="0",
        SECRET_KEY="x" * 30 + "-production-like-secret-value-123",
        ALLOWED_HOSTS="lw.example",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_check_warns_when_static_files_were_not_collected(tmp_path: Path) -> None:
    result = _check_deploy(
        DEBUG="0",
        SECRET_KEY="x" * 30 + "-production-like-secret-value-123",
        ALLOWED_HOSTS="lw.example",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "leadworkshop.W001" in result.stdout + result.stderr


def test_the_deploy_check_refuses_a_missing_secret_key() -> None:
    result = _check_deploy(DEBUG="0", ALLOWED_HOSTS="lw.example")
    assert result.returncode != 0
    assert "leadworkshop.E001" in result.stdout + result.stderr


def test_the_embedded_broker_keeps_every_folder_under_the_var_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, json; django.setup(); from django.conf import settings; "
            "print(json.dumps(settings.CELERY_BROKER_TRANSPORT_OPTIONS))",
        ],
        cwd=ROOT,
        env={**env, "VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "leadworkshop.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    options = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        assert Path(options[key]).is_relative_to(tmp_path), key
