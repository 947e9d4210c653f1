"""PostgreSQL: one GIN index over each lead's "field=value" tokens in place of sixteen
of the twenty filter B-trees of migration 0009. Each B-tree cost every imported row one
more index insertion; GIN batches the insertions of all tokens of many rows (its
pending list), and builds fast after a first import's load. The lead list's
filters ask for a token (feedback.leads.selectors.has_token) and the planner finds it
in the index through the very same expression. SQLite keeps the B-trees: it is the
small-data path and has no array type."""

from django.db import migrations

# The token of each field: "<workshop id>:<field>=<value>". Texts are upper-cased (the
# list compares them without case), numbers and flags in PostgreSQL's own text form,
# the close date as the number of its UTC day (since 2000-01-01). "+ 0" makes -0 read
# 0. Empty values give no token.
# created_at and annual_revenue have no token: their sort indexes (0005) serve equality.
# Nor have the nearly unique texts (company, e-mail domain, job title, e-mail): as GIN
# keys they cost three times the rest together to index (measured: 200,000 leads, 23 s
# with them, 7 s without), so their B-trees of 0009 stay.
FIELDS = [
    ("source", "text", "{c}"),
    ("channel", "text", "{c}"),
    ("seniority", "text", "{c}"),
    ("email_domain_kind", "text", "{c}"),
    ("budget", "text", "{c}"),
    ("authority", "text", "{c}"),
    ("need", "text", "{c}"),
    ("reached_stage", "text", "{c}"),
    ("industry", "text", "upper({c})"),
    ("country", "text", "upper({c})"),
    ("region", "text", "upper({c})"),
    ("employees", "double precision", "({c} + 0)::text"),
    ("timeline_days", "double precision", "({c} + 0)::text"),
    ("deal_value", "double precision", "({c} + 0)::text"),
    ("converted", "boolean", "{c}::text"),
    ("closed_at", "timestamptz", "(({c} AT TIME ZONE 'UTC')::date - date '2000-01-01')::text"),
]

ARGS = ", ".join(f"{name} {kind}" for name, kind, _value in FIELDS)
TOKENS = ", ".join(
    f"w::text || ':{name}=' || {value.format(c=name)}" for name, _kind, value in FIELDS
)

# IMMUTABLE is true of every part but the casts of numbers and the close date, which
# read no setting that the app changes (extra_float_digits, the server's time zone is
# not used: the date is taken in UTC).
CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION lead_filter_tokens(w bigint, {ARGS}) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT array_remove(ARRAY[{TOKENS}], NULL) $$
"""

COLUMNS = ", ".join(["workshop_id", *(name for name, _kind, _value in FIELDS)])

FILTER_BTREES = [
    "lead_f_source",
    "lead_f_channel",
    "lead_f_seniority",
    "lead_f_domain_kind",
    "lead_f_budget",
    "lead_f_authority",
    "lead_f_need",
    "lead_f_stage",
    "lead_f_industry",
    "lead_f_country",
    "lead_f_region",
    "lead_f_employees",
    "lead_f_timeline",
    "lead_f_deal_value",
    "lead_f_converted",
    "lead_f_closed_at",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION)
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS lead_filter_tokens ON feedback_lead"
        f" USING gin (lead_filter_tokens({COLUMNS}))"
    )
    for name in FILTER_BTREES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    # Statistics of the tokens now: the planner weighs a common value against a rare one.
    schema_editor.execute("ANALYZE feedback_lead")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from importlib import import_module

    import_module("feedback.migrations.0009_lead_filter_indexes").create(apps, schema_editor)
    schema_editor.execute("DROP INDEX IF EXISTS lead_filter_tokens")
    schema_editor.execute("DROP FUNCTION IF EXISTS lead_filter_tokens")


class Migration(migrations.Migration):
    dependencies = [("feedback", "0020_verdict_tally_app_origin")]

    operations = [migrations.RunPython(forwards, backwards)]
