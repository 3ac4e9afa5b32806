"""Staff roles. Each is a Group created by a migration; a person may hold several."""

CASEWORKER = "caseworker"
SUPERVISOR = "supervisor"
PARTNER_MANAGER = "partner_manager"
ADMINISTRATOR = "administrator"

# For pages every signed-in staff member may use, whatever their roles (the dashboard, their own account).
ANY = "any staff"

ALL = (CASEWORKER, SUPERVISOR, PARTNER_MANAGER, ADMINISTRATOR)

# Who releases or rejects what the self-service flood quarantine holds (cases/flood.py).
QUARANTINE_REVIEWERS = (SUPERVISOR, ADMINISTRATOR)

LABELS = {
    CASEWORKER: "Caseworker",
    SUPERVISOR: "Supervisor",
    PARTNER_MANAGER: "Partner manager",
    ADMINISTRATOR: "Administrator",
}

CHOICES = [(role, LABELS[role]) for role in ALL]

# Permissions (app_label.codename) each role's group holds.
PERMISSIONS = {
    CASEWORKER: [],
    SUPERVISOR: ["audit.view_auditevent"],
    PARTNER_MANAGER: [],
    ADMINISTRATOR: [
        "audit.view_auditevent",
        "staff.view_user",
        "staff.manage_staff",
        "auth.view_group",
    ],
}


def sync_groups(Group, Permission):
    """Create each role's group with exactly its permissions. Takes the models so migrations can pass theirs."""
    for role in ALL:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = [p.split(".") for p in PERMISSIONS[role]]
        group.permissions.set(
            [Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in wanted]
        )
