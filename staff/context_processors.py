from staff import roles

# Navigation by role: (label, url name, roles that see it). Pages keep their own role checks.
NAVIGATION = [
    ("Dashboard", "dashboard", roles.ALL),
    ("Cases", "case_list", (roles.CASEWORKER, roles.SUPERVISOR)),
    ("Record a contact", "contact_new", (roles.CASEWORKER, roles.SUPERVISOR)),
    ("Sites", "site_list", roles.ALL),
    ("Partners", "partner_list", (roles.PARTNER_MANAGER, roles.ADMINISTRATOR)),
    ("Review queue", "review_queue", (roles.PARTNER_MANAGER, roles.SUPERVISOR, roles.ADMINISTRATOR)),
    ("Hasher check", "hasher_check", roles.ALL),
    ("Statistics", "stats_dashboard", (roles.SUPERVISOR, roles.ADMINISTRATOR)),
    ("Audit log", "audit_log", (roles.SUPERVISOR, roles.ADMINISTRATOR)),
    ("Staff", "staff_list", (roles.ADMINISTRATOR,)),
    ("Evidence checklist", "evidence_template", (roles.ADMINISTRATOR,)),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": []}
    return {"navigation": [(label, name) for label, name, allowed in NAVIGATION if user.has_role(*allowed)]}
