from django.db import migrations
from django.utils import timezone


def mark_other_files(apps, schema_editor):
    """MD5s that only other files (neither images nor videos) hold are no longer shared: mark them, each with a
    change in the bank's log, so the feeds and push tell partners that received one that it is withdrawn."""
    BankHash = apps.get_model("hashing", "BankHash")
    BankChange = apps.get_model("hashing", "BankChange")
    now = timezone.now()
    others = (BankHash.objects.filter(signal_type="md5", other_file=False, items__kind="file")
              .exclude(items__kind__in=["image", "video"]).values_list("pk", flat=True))
    for row in BankHash.objects.filter(pk__in=list(others)).order_by("signal_type", "value").select_for_update():
        row.other_file, row.changed = True, now
        row.save(update_fields=["other_file", "changed"])
        BankChange.objects.create(bank_hash=row, status=row.status, review=row.review, quality=row.quality,
                                  video=row.video, other_file=True)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_hashinglink_purpose"),
        ("hashing", "0005_other_file"),
    ]

    operations = [migrations.RunPython(mark_other_files, migrations.RunPython.noop)]
