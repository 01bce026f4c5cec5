"""The Chinese catalogs are whole and current (issue 14).

* makemessages, run over a copy of the sources into a copy of the locale, finds no msgid whose zh_Hant
  msgstr is empty or fuzzy: every string a template or Python marks has a translation;
* the committed .mo files are what the committed .po files compile to;
* zh_Hans is make_hans_catalog's output of zh_Hant, and has no Traditional-only character left.

makemessages and msgfmt need GNU gettext (Debian: gettext; `make system-deps` installs it). Without it
the tests skip locally and fail in CI (HINDSIGHT_REQUIRE_SERVICES=1), like the service tests.
"""

from __future__ import annotations

import gettext
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from tests.conftest import require_service

ROOT = Path(settings.BASE_DIR)
LOCALE = ROOT / "forecasts" / "locale"
HANT = LOCALE / "zh_Hant" / "LC_MESSAGES" / "django.po"
HANS = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
# What `make messages` extracts from (it ignores .venv, tests and bench).
SOURCES = ("forecasts", "marketdata", "config")
EXTENSIONS = {".py", ".html", ".txt"}


def _require_gettext() -> None:
    missing = [tool for tool in ("xgettext", "msgmerge", "msguniq", "msgfmt") if shutil.which(tool) is None]
    require_service(f"GNU gettext ({', '.join(missing)}; Debian package gettext)", not missing)


# --- a small .po reader (no third-party dependency) ------------------------------------------------------


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), s[1:-1])


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (list of forms), flags. Obsolete entries
    (#~) are left out; the header (empty msgid) too."""
    entries: list[dict] = []
    current: dict = {}
    field: tuple[str, int] | None = None

    def finish() -> None:
        if current.get("msgid"):
            entries.append(current)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            if "msgid" in current:
                finish()
                current, field = {}, None
            current.setdefault("flags", set()).update(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith("#"):
            if "msgid" in current:
                finish()
                current, field = {}, None
            continue
        m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")$', line)
        if m:
            key, index, value = m.group(1), int(m.group(2) or 0), _unquote(m.group(3))
            if (
                key in ("msgctxt", "msgid")
                and "msgid" in current
                and (key == "msgctxt" or "msgstr" in current)
            ):
                finish()
                current = {}
            if key == "msgstr":
                forms = current.setdefault("msgstr", [])
                while len(forms) <= index:
                    forms.append("")
                forms[index] = value
            else:
                current[key] = value
            field = (key, index)
        elif line.startswith('"') and field is not None:
            key, index = field
            if key == "msgstr":
                current["msgstr"][index] += _unquote(line)
            else:
                current[key] += _unquote(line)
    finish()
    for e in entries:
        e.setdefault("flags", set())
        e.setdefault("msgstr", [""])
    return entries


def _label(e: dict) -> str:
    where = f"[{e['msgctxt']}] " if e.get("msgctxt") else ""
    return where + e["msgid"]


# --- the tests ----------------------------------------------------------------------------------------------


def _copy_sources(target: Path) -> None:
    for top in SOURCES:
        for path in (ROOT / top).rglob("*"):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            rel = path.relative_to(ROOT)
            if path.suffix in EXTENSIONS or rel.parts[:2] == ("forecasts", "locale"):
                dest = target / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)


def test_every_marked_string_has_a_traditional_chinese_translation(tmp_path):
    _require_gettext()
    _copy_sources(tmp_path)
    locale = tmp_path / "forecasts" / "locale"
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        with override_settings(LOCALE_PATHS=[locale]):
            call_command(
                "makemessages", locale=["zh_Hant"], no_obsolete=True, verbosity=0, stdout=io.StringIO()
            )
    finally:
        os.chdir(here)
    entries = read_po(locale / "zh_Hant" / "LC_MESSAGES" / "django.po")
    assert len(entries) > 200, "makemessages found too few strings: is the copy of the sources complete?"
    untranslated = [_label(e) for e in entries if "fuzzy" in e["flags"] or not all(e["msgstr"])]
    assert not untranslated, (
        f"{len(untranslated)} string(s) without a zh_Hant translation (empty or fuzzy); "
        "translate them in forecasts/locale/zh_Hant/LC_MESSAGES/django.po and run `make messages`:\n"
        + "\n".join(untranslated)
    )


def test_the_committed_catalog_has_no_empty_or_fuzzy_entry():
    untranslated = [_label(e) for e in read_po(HANT) if "fuzzy" in e["flags"] or not all(e["msgstr"])]
    assert not untranslated, "\n".join(untranslated)


@pytest.mark.parametrize("language", ["zh_Hant", "zh_Hans"])
def test_the_committed_mo_files_are_compiled_from_the_po_files(tmp_path, language):
    _require_gettext()
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(po)], check=True)
    with mo.open("rb") as committed, fresh.open("rb") as compiled:
        expected = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
        actual = gettext.GNUTranslations(committed)._catalog  # type: ignore[attr-defined]
    stale = sorted(str(k) for k in set(expected) ^ set(actual)) + sorted(
        str(k) for k in set(expected) & set(actual) if expected[k] != actual[k]
    )
    assert not stale, f"{mo.relative_to(ROOT)} is out of date (run `make messages`): " + "; ".join(stale[:20])


def test_simplified_catalog_is_generated_from_the_traditional_one():
    from forecasts.management.commands.make_hans_catalog import convert_catalog

    assert HANS.read_text(encoding="utf-8") == convert_catalog(HANT.read_text(encoding="utf-8")), (
        "zh_Hans/django.po is not make_hans_catalog's output of zh_Hant: run `make messages`"
    )


def test_simplified_catalog_has_no_traditional_characters_left():
    from forecasts.management.commands.make_hans_catalog import REVIEWED
    from marketdata.names import to_simplified

    reviewed = set(REVIEWED.values())
    left = []
    for e in read_po(HANS):
        for text in e["msgstr"]:
            again = to_simplified(text)
            for word in reviewed:  # a reviewed mainland word must survive a second conversion
                again = again.replace(to_simplified(word), word)
            if again != text:
                left.append(f"{_label(e)}: {text} -> {again}")
    assert not left, "\n".join(left)


def test_every_msgstr_keeps_the_placeholders_of_its_msgid():
    placeholder = re.compile(r"%\(\w+\)s|%%|\{\{\s*\w+\s*\}\}")
    wrong = []
    for e in read_po(HANT):
        wanted = sorted(placeholder.findall(e["msgid"]))
        for text in e["msgstr"]:
            if sorted(placeholder.findall(text)) != wanted:
                wrong.append(f"{_label(e)} -> {text}")
    assert not wrong, "\n".join(wrong)
