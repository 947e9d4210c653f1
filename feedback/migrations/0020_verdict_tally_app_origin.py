from django.db import migrations


def copy_app_rows(apps, schema_editor):
    """Every verdict so far was given in the app: the runs' "app" tallies equal the
    tallies of both origins, row for row."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO feedback_verdicttally"
            " (run_id, criterion, verdict, reason, qualified, stage, origin, n)"
            " SELECT run_id, criterion, verdict, reason, qualified, stage, 'app', n"
            " FROM feedback_verdicttally WHERE origin = ''"
        )


def drop_app_rows(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DELETE FROM feedback_verdicttally WHERE origin <> ''")


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0019_imported_verdicts"),
    ]

    operations = [migrations.RunPython(copy_app_rows, drop_app_rows)]
