"""On PostgreSQL, a trigram index makes the lead list's substring search fast at
millions of rows. SQLite has no such index and scans; it is the small-data path."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS lead_search_trgm ON feedback_lead "
        "USING gin (search_text gin_trgm_ops)"
    )


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS lead_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("feedback", "0002_leads")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
