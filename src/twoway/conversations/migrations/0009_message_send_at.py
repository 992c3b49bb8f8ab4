from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0008_message_retry_of"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="send_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                condition=models.Q(("status", "scheduled")),
                fields=["send_at"],
                name="message_scheduled_idx",
            ),
        ),
    ]
