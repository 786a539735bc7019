from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0007_merge_visits_and_tags"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ticketevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "created"),
                    ("status", "status changed"),
                    ("assigned", "assigned"),
                    ("changed", "fields changed"),
                    ("message", "message added"),
                    ("attachment", "attachment added"),
                    ("intervention", "intervention recorded"),
                    ("intervention_changed", "intervention changed"),
                    ("billing", "billing"),
                    ("visit", "visit planned or closed"),
                    ("tags", "tags changed"),
                    ("merged", "merged"),
                    ("split", "split"),
                    ("linked", "link changed"),
                ],
                max_length=24,
                verbose_name="kind",
            ),
        ),
    ]
