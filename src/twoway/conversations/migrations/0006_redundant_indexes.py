"""Drop single-column indexes another index already leads with, and index `sent_by` only where set.

Every index of the message table is written again when a message changes status (the queue's
partial indexes keep those updates from being HOT), so each one a query does not need costs every
send (docs/performance.md). The indexes are dropped by name, which Django derives the
same way on both databases, instead of through AlterField: on SQLite that would rebuild the
message table, and on PostgreSQL re-check every row's foreign key.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (table, column, index name as Django created it)
DROPPED = [
    (
        "conversations_conversation",
        "organization_id",
        "conversations_conversation_organization_id_474f7c7e",
    ),
    ("conversations_message", "conversation_id", "conversations_message_conversation_id_f1a2d5e9"),
    ("conversations_message", "sent_by_id", "conversations_message_sent_by_id_853eaa63"),
]


def drop(table: str, column: str, name: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        sql=f'DROP INDEX IF EXISTS "{name}"',
        reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_api_key_owner"),
        ("conversations", "0005_message_search"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[drop(*dropped) for dropped in DROPPED],
            state_operations=[
                migrations.AlterField(
                    model_name="conversation",
                    name="organization",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="conversations",
                        to="accounts.organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="conversation",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="conversations.conversation",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="sent_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                condition=models.Q(("sent_by__isnull", False)),
                fields=["sent_by"],
                name="message_sent_by_idx",
            ),
        ),
    ]
