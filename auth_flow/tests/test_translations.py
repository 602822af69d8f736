"""The shipped catalogues: complete, and every translation keeps what the code fills in."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils.translation import to_locale

SHIPPED = [code for code, _name in settings.LANGUAGES if code != "en"]
# What a translation must carry over unchanged: the copy's placeholders and button
# marker, Python's named placeholders, and HTML tags with their attributes.
KEPT = [
    re.compile(r"\{\{ *\w+ *\}\}"),
    re.compile(r"\[button\]"),
    re.compile(r"%\(\w+\)[sd]"),
    re.compile(r"</?\w+(?: [^>]*)?>"),
]


def catalogue(code: str) -> polib.POFile:
    path = Path(settings.LOCALE_PATHS[0]) / to_locale(code) / "LC_MESSAGES" / "django.po"
    assert path.exists(), f"no catalogue for {code} at {path}"
    return polib.pofile(str(path))


def kept(text: str) -> list[str]:
    return sorted(found for pattern in KEPT for found in pattern.findall(text))


@pytest.mark.parametrize("code", SHIPPED)
def test_every_shipped_catalogue_is_complete(code):
    po = catalogue(code)

    assert po.percent_translated() == 100, [e.msgid for e in po.untranslated_entries()][:5]
    assert not po.fuzzy_entries(), [e.msgid for e in po.fuzzy_entries()][:5]
    assert "fuzzy" not in (po.metadata_is_fuzzy or [])
    assert po.metadata["Language"] == to_locale(code)
    assert len(po) > 200  # the whole site, not a stub


@pytest.mark.parametrize("code", SHIPPED)
def test_translations_keep_every_placeholder_and_tag(code):
    wrong = []
    for entry in catalogue(code).translated_entries():
        if entry.msgid_plural:
            # Languages with one plural form use the plural's placeholders (say, %(count)s).
            expected = [kept(entry.msgid), kept(entry.msgid_plural)]
            wrong += [
                (entry.msgid, form)
                for form, text in entry.msgstr_plural.items()
                if kept(text) not in expected
            ]
        elif kept(entry.msgstr) != kept(entry.msgid):
            wrong.append((entry.msgid, entry.msgstr))
    assert wrong == []


@pytest.mark.parametrize("code", SHIPPED)
def test_the_show_password_toggle_says_what_it_shows(code):
    # Speech users say the visible word; the accessible name must contain it.
    words = {e.msgid: e.msgstr for e in catalogue(code).translated_entries()}

    assert words["Show"].casefold() in words["Show password"].casefold()
