"""Indexes that let the lead list filter on any field of a million leads: equality on
each built-in field (text case-folded, as the filter compares it) and, on PostgreSQL,
containment in the custom fields. A value that matches no lead is then an index probe,
not a scan of the workshop."""

from django.db import migrations

# index name -> the indexed expression, after workshop_id
FILTER_INDEXES = {
    # choices, compared exactly
    "lead_f_source": "source",
    "lead_f_channel": "channel",
    "lead_f_seniority": "seniority",
    "lead_f_domain_kind": "email_domain_kind",
    "lead_f_budget": "budget",
    "lead_f_authority": "authority",
    "lead_f_need": "need",
    "lead_f_stage": "reached_stage",
    # texts, compared without case (Django's iexact is UPPER(column) = UPPER(value))
    "lead_f_company": "UPPER(company)",
    "lead_f_industry": "UPPER(industry)",
    "lead_f_country": "UPPER(country)",
    "lead_f_region": "UPPER(region)",
    "lead_f_email_domain": "UPPER(email_domain)",
    "lead_f_job_title": "UPPER(job_title)",
    # a whole e-mail address typed into the search box
    "lead_f_email": "UPPER(email)",
    # numbers, flags and the one date without a sort index
    "lead_f_employees": "employees",
    "lead_f_timeline": "timeline_days",
    "lead_f_deal_value": "deal_value",
    "lead_f_converted": "converted",
    "lead_f_closed_at": "closed_at",
}


def create(apps, schema_editor):
    for name, expression in FILTER_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON feedback_lead (workshop_id, ({expression}))"
        )
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS lead_f_custom ON feedback_lead"
            " USING gin (custom jsonb_path_ops)"
        )
        # Statistics of the new expressions now: without them the planner takes every
        # value for a common one and scans the workshop instead of probing the index.
        schema_editor.execute("ANALYZE feedback_lead")


def drop(apps, schema_editor):
    for name in [*FILTER_INDEXES, "lead_f_custom"]:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("feedback", "0008_run_outcome_stats")]

    operations = [migrations.RunPython(create, drop)]
