"""The lead list's search text also holds the CRM's external id and every custom
field's value (feedback.leads.services.search_text): recompute it for the leads that
exist, in one statement per database."""

from django.db import migrations

POSTGRES = """
UPDATE feedback_lead SET search_text = lower(trim(
    coalesce(name, '') || ' ' || coalesce(email, '') || ' ' || coalesce(company, '')
    || ' ' || external_id || ' ' || coalesce(
        (SELECT string_agg(value, ' ' ORDER BY key) FROM jsonb_each_text(custom)), '')))
"""
SQLITE = """
UPDATE feedback_lead SET search_text = py_lower(trim(
    coalesce(name, '') || ' ' || coalesce(email, '') || ' ' || coalesce(company, '')
    || ' ' || external_id || ' ' || coalesce(
        (SELECT group_concat(value, ' ') FROM
            (SELECT CASE type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'
             ELSE value END AS value FROM json_each(custom) ORDER BY key)), '')))
"""


def refresh_search_text(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        # SQLite's lower() folds ASCII only; Python's, as the importer registers it.
        connection.ensure_connection()
        connection.connection.create_function("py_lower", 1, lambda s: s.lower() if s else s)
    with connection.cursor() as cursor:
        cursor.execute(POSTGRES if connection.vendor == "postgresql" else SQLITE)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0011_protect_verdict_rep"),
    ]

    operations = [migrations.RunPython(refresh_search_text, migrations.RunPython.noop)]
