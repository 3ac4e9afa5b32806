"""Client addresses move out of the append-only audit rows into a purgeable side table the rows point to.

Existing addresses are carried over (and back, when migrating backwards): the append-only trigger is switched
off for this one set-based statement, as the owner who runs migrations may do, and on again in the same
transaction.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

MOVE = """
ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only;
ALTER TABLE audit_auditclientip ADD COLUMN event_id bigint;
INSERT INTO audit_auditclientip (ip, created, event_id)
    SELECT ip, at, id FROM audit_auditevent WHERE ip IS NOT NULL;
UPDATE audit_auditevent AS e SET client_ip_id = c.id FROM audit_auditclientip AS c WHERE c.event_id = e.id;
ALTER TABLE audit_auditclientip DROP COLUMN event_id;
ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only;
"""

# Backwards (after the ip column is back): the addresses not yet purged return to their rows.
MOVE_BACK = """
ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only;
UPDATE audit_auditevent AS e SET ip = c.ip FROM audit_auditclientip AS c WHERE c.id = e.client_ip_id;
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
        migrations.RunSQL(MOVE, MOVE_BACK),
        migrations.RemoveField(
            model_name='auditevent',
            name='ip',
        ),
    ]
