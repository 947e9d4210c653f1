# The verdict tallies counted afresh with the result's stage (its own migration: on
# PostgreSQL the rows it writes and the constraint change of 0012 cannot share one
# transaction).

from collections import Counter

from django.db import migrations, models


def tally_with_stages(apps, schema_editor):
    """Count every done run's verdict tallies afresh, now grouped by the run's stage
    too (the verdicts measured at the MQL and SQL cuts). The SQL and the grouping are
    verdicts.selectors.counted_verdict_groups and tallies.expand as of this migration."""
    run_model = apps.get_model("feedback", "EvaluationRun")
    tally_model = apps.get_model("feedback", "VerdictTally")
    tally_model.objects.all().delete()
    with schema_editor.connection.cursor() as cursor:
        for run_id, workshop_id in run_model.objects.filter(state="done").values_list(
            "id", "workshop_id"
        ):
            cursor.execute(
                "SELECT f.verdict, f.reason, r.qualified, r.stage, r.matched, count(*)"
                " FROM feedback_leadfeedback f"
                " JOIN feedback_leadresult r ON r.run_id = %s AND r.lead_id = f.lead_id"
                " WHERE f.workshop_id = %s AND f.superseded_at IS NULL AND NOT EXISTS ("
                "  SELECT 1 FROM feedback_leadfeedback newer WHERE newer.lead_id = f.lead_id"
                "   AND newer.superseded_at IS NULL AND newer.id > f.id)"
                " GROUP BY f.verdict, f.reason, r.qualified, r.stage, r.matched",
                [run_id, workshop_id],
            )
            counts = Counter()
            for verdict, reason, qualified, stage, matched, n in cursor.fetchall():
                for criterion in ["", *filter(None, (matched or "").split(","))]:
                    counts[(criterion, verdict, reason, qualified, stage)] += n
            tally_model.objects.bulk_create(
                tally_model(
                    run_id=run_id, criterion=c, verdict=v, reason=r, qualified=q, stage=s, n=n
                )
                for (c, v, r, q, s), n in counts.items()
            )


def untally_stages(apps, schema_editor):
    """Back to tallies without stages: each group's rows of every stage become one, so
    the older constraint (without the stage) holds again."""
    tally_model = apps.get_model("feedback", "VerdictTally")
    key = ("run_id", "criterion", "verdict", "reason", "qualified")
    merged = list(tally_model.objects.values(*key).annotate(total=models.Sum("n")).order_by())
    tally_model.objects.all().delete()
    tally_model.objects.bulk_create(
        tally_model(**{k: row[k] for k in key}, stage="", n=row["total"]) for row in merged
    )


class Migration(migrations.Migration):

    dependencies = [
        ("feedback", "0014_decision_moment_handoff"),
    ]

    operations = [
        migrations.RunPython(tally_with_stages, untally_stages),
    ]
