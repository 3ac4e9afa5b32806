#!/usr/bin/env python
import os
import sys

# Commands that need neither secrets nor a database: they run from a bare checkout with no environment set
# (the reference hasher on a partner's machine; a TOTP code for a demo account). See NCII_OFFLINE_COMMAND.
OFFLINE_COMMANDS = {"hashfiles", "totp_code", "makemessages", "compilemessages"}

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ncii_portal.settings")
    if sys.argv[1:2] and sys.argv[1] in OFFLINE_COMMANDS:
        os.environ["NCII_OFFLINE_COMMAND"] = "1"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
