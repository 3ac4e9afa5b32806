"""Client addresses move out of the append-only audit rows into a purgeable side table the rows point to.

Existing addresses are carried over: the append-only trigger is switched off for this one statement, as the
owner who runs migrations may do, and on again in the same transaction.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

MOVE = """
ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only;
DO $$
DECLARE
    row record;
    moved bigint;
BEGIN
    FOR row IN SELECT id, ip, at FROM audit_auditevent WHERE ip IS NOT NULL LOOP
        INSERT INTO audit_auditclientip (ip, created) VALUES (row.ip, row.at) RETURNING id INTO moved;
        UPDATE audit_auditevent SET client_ip_id = moved WHERE id = row.id;
    END LOOP;
END $$;
ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_append_only'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditClientIP',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('ip', models.GenericIPAddressField()),
                ('created', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
            ],
        ),
        migrations.AddField(
            model_name='auditevent',
            name='client_ip',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True,
                                    on_delete=django.db.models.deletion.DO_NOTHING, related_name='+',
                                    to='audit.auditclientip'),
        ),
        migrations.RunSQL(MOVE, migrations.RunSQL.noop),
        migrations.RemoveField(
            model_name='auditevent',
            name='ip',
        ),
    ]
