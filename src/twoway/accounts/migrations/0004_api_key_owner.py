"""API keys become personal: each belongs to the member who acts through it.

Existing keys were the organization's; they go to its earliest active administrator (or, failing
that, its earliest administrator), the person who stood for the organization until now. A key
whose organization has no administrator at all could act for nobody, so it is removed.
"""

import django.db.models.deletion
from django.db import migrations, models


def _give_keys_an_owner(apps, schema_editor):  # type: ignore[no-untyped-def]
    ApiKey = apps.get_model("accounts", "ApiKey")
    Membership = apps.get_model("accounts", "Membership")
    for organization_id in ApiKey.objects.values_list("organization_id", flat=True).distinct():
        admins = Membership.objects.filter(organization_id=organization_id, role="admin")
        owner = (
            admins.filter(user__is_active=True).order_by("pk").first()
            or admins.order_by("pk").first()
        )
        keys = ApiKey.objects.filter(organization_id=organization_id)
        if owner is None:
            keys.delete()
        else:
            keys.update(owner=owner)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_two_way_texting"),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="owner",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="api_keys",
                to="accounts.membership",
            ),
        ),
        migrations.RunPython(_give_keys_an_owner, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apikey",
            name="owner",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="api_keys",
                to="accounts.membership",
            ),
        ),
    ]
