"""The bank's change log replaces the change sequence; staff review moves out of the case-derived status.

Each existing row is logged once, so a feed starting from nothing receives it; a row that was "paused" becomes
active and under review (paused).
"""

import django.db.models.deletion
from django.db import migrations, models

import hashing.models


class Migration(migrations.Migration):

    dependencies = [
        ('hashing', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='bankhash',
            name='review',
            field=models.CharField(blank=True, choices=[('', 'Not under review'), ('paused', 'Paused: partners reported it is not NCII'), ('held', 'Held: contributed by a partner, awaiting review')], default='', max_length=10),
        ),
        migrations.AddField(
            model_name='bankhash',
            name='video',
            field=models.BooleanField(default=False),
        ),
        migrations.RunSQL(
            "UPDATE hashing_bankhash SET status = 'active', review = 'paused' WHERE status = 'paused'",
            "UPDATE hashing_bankhash SET status = 'paused' WHERE review = 'paused'",
        ),
        migrations.AlterField(
            model_name='bankhash',
            name='status',
            field=models.CharField(choices=[('active', 'Active'), ('withdrawn', 'Withdrawn')], default='active', max_length=10),
        ),
        migrations.CreateModel(
            name='BankChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('txid', models.BigIntegerField(db_default=hashing.models.TransactionId())),
                ('at', models.DateTimeField(db_default=hashing.models.ClockTime())),
                ('status', models.CharField(choices=[('active', 'Active'), ('withdrawn', 'Withdrawn')], max_length=10)),
                ('review', models.CharField(blank=True, choices=[('', 'Not under review'), ('paused', 'Paused: partners reported it is not NCII'), ('held', 'Held: contributed by a partner, awaiting review')], max_length=10)),
                ('quality', models.PositiveSmallIntegerField(blank=True, null=True)),
                ('video', models.BooleanField(default=False)),
                ('bank_hash', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='changes', to='hashing.bankhash')),
            ],
            options={
                'indexes': [models.Index(fields=['txid', 'id'], name='hashing_ban_txid_b52d64_idx')],
            },
        ),
        migrations.RunSQL(
            """INSERT INTO hashing_bankchange (bank_hash_id, status, review, quality, video)
               SELECT id, status, review, quality, video FROM hashing_bankhash ORDER BY change_seq""",
            migrations.RunSQL.noop,
        ),
        migrations.RemoveField(
            model_name='bankhash',
            name='change_seq',
        ),
        migrations.RunSQL(
            "DROP SEQUENCE hashing_bankhash_change_seq",
            "CREATE SEQUENCE hashing_bankhash_change_seq",
        ),
    ]
