"""One word for one idea: the duration scales are ``bands`` everywhere (issue 10)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_billing_statements"),
    ]

    operations = [
        migrations.RenameField("tariffversion", "phone_tiers", "phone_bands"),
        migrations.RenameField("tariffversion", "remote_tiers", "remote_bands"),
    ]
