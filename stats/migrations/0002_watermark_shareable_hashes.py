# Watermark.active counts the bank hashes shareable at the update: say so.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('stats', '0001_initial'),
    ]

    operations = [
        migrations.RenameField(model_name='watermark', old_name='active', new_name='shareable_hashes'),
    ]
