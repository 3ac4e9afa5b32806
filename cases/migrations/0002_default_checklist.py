from django.db import migrations

DEFAULTS = [
    "Screenshots taken, with the URL visible",
    "List of URLs and sites where the images appear",
    "Usernames or profiles of the person sharing",
    "Dates and times shared, and when captured",
    "Threatening messages kept",
    "Reports made to the platforms",
    "Police report made, with the crime reference",
    "Takedown (DMCA) requests sent",
    "“Do not pay” advice given",
    "Evidence backed up off the device",
]


def add_defaults(apps, schema_editor):
    EvidenceItem = apps.get_model("cases", "EvidenceItem")
    if not EvidenceItem.objects.exists():
        EvidenceItem.objects.bulk_create(
            EvidenceItem(label=label, position=10 * (n + 1)) for n, label in enumerate(DEFAULTS))


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
