# FeedPosition.feed and Handover.feed are `route`: push is no feed. The stored values stay as they were. In the
# database only the columns and two index names change: PostgreSQL's indexes and constraints follow a renamed
# column, so nothing is rebuilt; the state drops and adds them because Django's state keeps their field names.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('partners', '0009_webhook_sent'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RenameField(model_name='feedposition', old_name='feed', new_name='route'),
                migrations.RenameField(model_name='handover', old_name='feed', new_name='route'),
                migrations.RunSQL(
                    'ALTER INDEX partners_ha_partner_e11d95_idx RENAME TO partners_ha_partner_a7ee89_idx;'
                    'ALTER INDEX partners_ha_partner_ad9fdf_idx RENAME TO partners_ha_partner_cfda58_idx;',
                    'ALTER INDEX partners_ha_partner_a7ee89_idx RENAME TO partners_ha_partner_e11d95_idx;'
                    'ALTER INDEX partners_ha_partner_cfda58_idx RENAME TO partners_ha_partner_ad9fdf_idx;'),
            ],
            state_operations=[
                migrations.RemoveConstraint(model_name='feedposition', name='feedposition_once'),
                migrations.RemoveIndex(model_name='handover', name='partners_ha_partner_e11d95_idx'),
                migrations.RemoveIndex(model_name='handover', name='partners_ha_partner_ad9fdf_idx'),
                migrations.RenameField(model_name='feedposition', old_name='feed', new_name='route'),
                migrations.RenameField(model_name='handover', old_name='feed', new_name='route'),
                migrations.AddIndex(
                    model_name='handover',
                    index=models.Index(fields=['partner', 'route', 'txid', 'change_id'],
                                       name='partners_ha_partner_a7ee89_idx'),
                ),
                migrations.AddIndex(
                    model_name='handover',
                    index=models.Index(fields=['partner', 'route', 'change_at', 'change_id'],
                                       name='partners_ha_partner_cfda58_idx'),
                ),
                migrations.AddConstraint(
                    model_name='feedposition',
                    constraint=models.UniqueConstraint(fields=('partner', 'route'), name='feedposition_once'),
                ),
            ],
        ),
    ]
