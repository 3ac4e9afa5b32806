"""The languages of the caller's pages: each named in itself, and who reviewed its translation.

settings.LANGUAGES (every language shipped) and settings.CALLER_LANGUAGES (those a helpline offers) are built from
SHIPPED; staff see REVIEWS beside each language they can pick, and docs/caller.md lists them. Arabic and Urdu are
written right to left: Django's LANGUAGES_BIDI knows them, and the caller's base template sets dir from it.
"""

# (code, name in itself, name in English): the order of the caller's language switch.
SHIPPED = [
    ("en-gb", "English", "English"),
    ("es", "Español", "Spanish"),
    ("fr", "Français", "French"),
    ("de", "Deutsch", "German"),
    ("it", "Italiano", "Italian"),
    ("pt", "Português", "Portuguese"),
    ("sv", "Svenska", "Swedish"),
    ("ar", "العربية", "Arabic"),
    ("hi", "हिन्दी", "Hindi"),
    ("ur", "اردو", "Urdu"),
    ("ko", "한국어", "Korean"),
    ("cy", "Cymraeg", "Welsh"),
    ("pl", "Polski", "Polish"),
    ("uk", "Українська", "Ukrainian"),
    ("ro", "Română", "Romanian"),
    ("tr", "Türkçe", "Turkish"),
]

# Who checked each translation. None: machine-made or written by a team member who is not a native speaker, and
# not yet reviewed by a native speaker; staff see it marked so, and a helpline may leave it out of
# CALLER_LANGUAGES until someone has.
SOURCE = "the source text"
REVIEWS = {
    "en-gb": SOURCE,
    **{code: None for code, _name, _english in SHIPPED[1:]},
}

NOT_REVIEWED = "not yet reviewed by a native speaker"


def native_names():
    """[(code, name in itself)]: the shape of settings.LANGUAGES."""
    return [(code, name) for code, name, _english in SHIPPED]


def offered(setting, default):
    """The codes in a CALLER_LANGUAGES setting ("en-gb,es,ar"; empty: every shipped language), the default
    language always among them. An unknown code is a configuration error, not a silent gap."""
    known = [code for code, _name, _english in SHIPPED]
    codes = [code.strip().lower() for code in setting.split(",") if code.strip()] or known
    unknown = sorted(set(codes) - set(known))
    if unknown:
        raise ValueError(f"CALLER_LANGUAGES: no translation shipped for {', '.join(unknown)}")
    chosen = set(codes) | {default}
    return [code for code in known if code in chosen]


def staff_label(code):
    """How a language reads in a staff picker: its own name, its English one, and whether anyone checked it."""
    for known, name, english in SHIPPED:
        if known == code:
            label = name if name == english else f"{name} ({english})"
            return label if REVIEWS.get(code) else f"{label}: {NOT_REVIEWED}"
    return code
