"""Completeness is checked, not hoped for: every shipped language's catalogue has every caller string translated,
none fuzzy, placeholders as in the English; the page script's plural tables agree with gettext; each language's
consent wording has its own recorded version."""

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import ngettext

from cases.caller_views import caller_texts, plural
from cases.consent import CONSENT_VERSIONS, CURRENT_VERSIONS, consent_version, wording_digest
from core import languages

LOCALE = Path(settings.BASE_DIR) / "locale"
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def catalogue(code):
    return LOCALE / code / "LC_MESSAGES" / "django.po"


def entries(path):
    """[(msgid, msgid_plural or None, [msgstr...], fuzzy)] of a .po file, read the plain way (msgcat's layout)."""
    found, entry, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith("#~"):
            continue
        if not line.strip():
            if entry and entry["msgid"]:
                found.append((entry["msgid"], entry.get("msgid_plural"), entry["strs"], entry["fuzzy"]))
            entry, field = None, None
            continue
        if entry is None:
            entry = {"msgid": "", "strs": [], "fuzzy": False}
        if line.startswith("#,") and "fuzzy" in line:
            entry["fuzzy"] = True
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = bytes(line[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
            if field == "msgstr":
                entry["strs"][-1] += value
            else:
                entry[field] += value
        else:
            keyword, _space, rest = line.partition(" ")
            value = bytes(rest[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
            if keyword.startswith("msgstr"):
                field = "msgstr"
                entry["strs"].append(value)
            else:
                field = keyword
                entry[keyword] = value
    return found


def names(text):
    return set(PLACEHOLDER.findall(text))


def test_every_shipped_language_is_offered_named_in_itself_and_has_a_review_record():
    assert [code for code, _n, _e in languages.SHIPPED] == [code for code, _n in settings.LANGUAGES]
    assert len(settings.LANGUAGES) >= 16
    assert set(languages.REVIEWS) == {code for code, _n in settings.LANGUAGES}
    named = dict(settings.LANGUAGES)
    assert named["es"] == "Español" and named["ar"] == "العربية" and named["ko"] == "한국어"
    assert {"ar", "ur"} <= set(settings.LANGUAGES_BIDI)
    assert "not yet reviewed by a native speaker" in languages.staff_label("cy")
    assert languages.staff_label("en-gb") == "English"


def test_the_setting_of_languages_offered_refuses_an_unknown_code_and_keeps_the_default():
    assert languages.offered("cy, ar", "en-gb") == ["en-gb", "ar", "cy"]
    assert languages.offered("", "en-gb") == [code for code, _n in settings.LANGUAGES]
    with pytest.raises(ValueError, match="xx"):
        languages.offered("ar,xx", "en-gb")


@pytest.mark.parametrize("code", TRANSLATED)
def test_msgfmt_finds_every_string_translated_none_fuzzy_formats_matching(code):
    path = catalogue(code)
    assert path.exists(), f"no catalogue for {code}"
    run = subprocess.run(["msgfmt", "--check-format", "--check-header", "--statistics", "-o", "/dev/null", str(path)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert re.fullmatch(r"\d+ translated messages?\.\n", run.stderr), f"{code}: {run.stderr.strip()}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_catalogue_holds_the_same_strings_each_translated_with_its_placeholders(code):
    source = {msgid for msgid, _p, _s, _f in entries(catalogue("es"))}
    found = entries(catalogue(code))
    assert {msgid for msgid, _p, _s, _f in found} == source, f"{code} holds other strings than es: run makemessages"
    for msgid, msgid_plural, strs, fuzzy in found:
        assert not fuzzy, f"{code}: fuzzy: {msgid!r}"
        assert all(s.strip() for s in strs), f"{code}: untranslated: {msgid!r}"
        wanted = names(msgid) | names(msgid_plural or "")
        for text in strs:
            got = names(text)
            assert got <= wanted, f"{code}: {sorted(got - wanted)} not in the English of {msgid!r}"
            # A plural form may say its number in words ("one file"); a singular message keeps every placeholder.
            assert msgid_plural or got == wanted, f"{code}: {sorted(wanted - got)} missing from {text!r}"


def test_the_catalogues_hold_every_string_the_code_marks(tmp_path):
    """A string marked in the code but missing from the catalogues would reach every caller in English: makemessages
    (as docs/caller.md runs it) over a copy of the code, since it writes into the tree it reads, must find nothing
    the Spanish catalogue (the others are checked against it above) does not hold."""
    code = tmp_path / "code"
    shutil.copytree(settings.BASE_DIR, code, ignore=shutil.ignore_patterns(
        ".*", "node_modules", "locale", "docs", "tests", "bench", "__pycache__", "*.png", "*.mo", "*.po"))
    run = subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "es", "--no-wrap"], cwd=code,
                         env={**os.environ, "DEBUG": "0"}, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    marked = {msgid for msgid, _p, _s, _f in entries(code / "locale" / "es" / "LC_MESSAGES" / "django.po")}
    held = {msgid for msgid, _p, _s, _f in entries(catalogue("es"))}
    assert marked - held == set(), "marked in the code but in no catalogue: run makemessages (docs/caller.md)"
    assert held - marked == set(), "in the catalogues but no longer in the code: run makemessages"


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_page_scripts_plural_tables_agree_with_gettext(code):
    with translation.override(code):
        table = plural(lambda n: ngettext("%(ready)s of %(count)s file ready", "%(ready)s of %(count)s files ready",
                                          n))
        for n in range(1000):
            row = n if n < len(table["index"]) else 100 + n % 100
            assert table["forms"][table["index"][row]] == ngettext(
                "%(ready)s of %(count)s file ready", "%(ready)s of %(count)s files ready", n), (code, n)


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_hashing_page_script_gets_its_words_in_each_language(code):
    with translation.override("en-gb"):
        english = caller_texts()
    with translation.override(code):
        texts = caller_texts()
    for key in ("errors", "warnings"):
        for name, text in texts[key].items():
            assert text != english[key][name], f"{code}: {key}.{name} is still English"
    assert texts["ready_of"]["forms"] != english["ready_of"]["forms"]


@pytest.mark.parametrize("code", [code for code, _n in settings.LANGUAGES])
def test_each_languages_consent_wording_has_its_own_version(code):
    version, digest = CONSENT_VERSIONS[code]
    assert consent_version(code) == version in CURRENT_VERSIONS
    assert wording_digest(code) == digest, (
        f"The consent wording in {code} changed: give it a new version in cases/consent.py, with digest "
        f"{wording_digest(code)}")


def test_consent_versions_name_one_wording_each():
    assert len(CURRENT_VERSIONS) == len(CONSENT_VERSIONS)
    assert all(len(version) <= 20 for version in CURRENT_VERSIONS)  # Case.consent_version


def test_the_compiled_catalogues_are_what_gettext_loads():
    # make compiles locale/*.po before tests; a .po without its .mo would leave a language in English.
    for code in TRANSLATED:
        mo = catalogue(code).with_suffix(".mo")
        assert mo.exists(), code
        assert gettext.GNUTranslations(mo.open("rb")).gettext("Online form") != "Online form", code
