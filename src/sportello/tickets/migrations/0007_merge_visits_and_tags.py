from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0006_tags_merge_related"),
        ("tickets", "0006_ticketevent_kind_visit"),
    ]

    operations = []
