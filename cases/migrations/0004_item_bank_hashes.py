from django.db import migrations


class Migration(migrations.Migration):
    """Item.signals held bank hashes, not signal types: it is now Item.bank_hashes (its table is renamed with it)."""

    dependencies = [
        ("cases", "0003_alter_caseevent_kind_alter_notification_kind"),
    ]

    operations = [
        migrations.RenameField(model_name="item", old_name="signals", new_name="bank_hashes"),
    ]
