"""Drop the organization index: the (organization, id) index already leads with it, and every
status change of a sent message writes an event row (docs/performance.md). Dropped by
name, not through AlterField, which would rebuild the table on SQLite."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "realtime_realtimeevent_organization_id_756982c6"


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_api_key_owner"),
        ("realtime", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=(
                        f'CREATE INDEX "{INDEX}" ON "realtime_realtimeevent" ("organization_id")'
                    ),
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="realtimeevent",
                    name="organization",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="accounts.organization",
                    ),
                )
            ],
        )
    ]
