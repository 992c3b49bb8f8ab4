from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def flag_waiting_opt_outs(apps, schema_editor):
    """Contacts whose last consent entry is a flagged worded opt-out still wait for an agent."""
    Contact = apps.get_model("contacts", "Contact")
    ConsentEvent = apps.get_model("compliance", "ConsentEvent")
    latest = ConsentEvent.objects.filter(contact_id=OuterRef("pk")).order_by("-created_at", "-pk")
    waiting = Contact.objects.annotate(
        last_kind=Subquery(latest.values("kind")[:1]),
        last_at=Subquery(latest.values("created_at")[:1]),
    ).filter(last_kind="opt_out_flagged", opt_in_status="opted_in")
    for contact_id, flagged_at in waiting.values_list("pk", "last_at").iterator():
        Contact.objects.filter(pk=contact_id).update(opt_out_flagged_at=flagged_at)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0002_keywords"),
        ("contacts", "0007_contact_last_activity"),
    ]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="opt_out_flagged_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("opt_out_flagged_at__isnull", False)),
                fields=["organization", "opt_out_flagged_at"],
                name="contact_org_opt_out_flagged",
            ),
        ),
        migrations.RunPython(flag_waiting_opt_outs, migrations.RunPython.noop),
    ]
