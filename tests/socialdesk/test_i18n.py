"""Spanish first, Valencian and English selectable: the catalogues are complete, compiled, and used.

When a test here fails because strings were added or changed, refresh and translate the catalogues:
`make messages` (needs `apt-get install gettext`), fill every empty or fuzzy entry in
locale/es and locale/ca, then `make messages` again (or `manage.py compile_catalogues`).
"""

import ast
import functools
import io
import os
import re
import tokenize
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django.utils.translation.template import templatize

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
COMPLETE_LANGUAGES = ("es", "ca")  # English is the source language: its catalogue may stay empty
REFRESH_HINT = "run `make messages`, translate es and ca, run `make messages` again (see the Makefile)"

# The same files `make messages` reads: makemessages' default extensions, minus what the Makefile ignores.
SOURCE_EXTENSIONS = {".py", ".html", ".txt"}
IGNORED_DIRS = {".venv", "var", "tests", "bench", "node_modules", "__pycache__"}

# xgettext's keywords as Django's makemessages passes them: name → (context arg, msgid arg) positions.
PYTHON_KEYWORDS = {
    "_": (None, 0),
    "gettext": (None, 0),
    "gettext_lazy": (None, 0),
    "gettext_noop": (None, 0),
    "ngettext": (None, 0),
    "ngettext_lazy": (None, 0),
    "pgettext": (0, 1),
    "pgettext_lazy": (0, 1),
    "npgettext": (0, 1),
    "npgettext_lazy": (0, 1),
}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdifr]|%[sdif]|\{\w*\}")


@pytest.fixture(autouse=True)
def _leave_no_language_behind():
    """LocaleMiddleware activates the request's language in this thread and leaves it there; without
    this, the next test on the same worker would run in Valencian or English."""
    yield
    translation.deactivate()


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))


def source_files() -> list[Path]:
    found = []
    for directory, subdirectories, files in os.walk(settings.BASE_DIR):
        subdirectories[:] = [
            name
            for name in subdirectories
            if name not in IGNORED_DIRS and not name.startswith(".") and not name.endswith(".egg-info")
        ]
        found += [Path(directory, name) for name in files if Path(name).suffix in SOURCE_EXTENSIONS]
    return sorted(found)


def _python_msgids(source: str) -> set[tuple[str | None, str]]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in PYTHON_KEYWORDS:
            continue
        context_at, msgid_at = PYTHON_KEYWORDS[name]
        args = [
            arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None
            for arg in node.args
        ]
        msgid = args[msgid_at] if len(args) > msgid_at else None
        context = args[context_at] if context_at is not None and len(args) > context_at else None
        if msgid is not None:
            found.add((context, msgid))
    return found


def _template_msgids(source: str) -> set[tuple[str | None, str]]:
    """Read the gettext calls out of templatize(), the text Django itself hands to xgettext."""
    found = set()
    # Blanked-out markup keeps its indentation, which the Python tokenizer would trip over.
    text = "\n".join(line.lstrip() for line in templatize(source).splitlines())
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type != tokenize.NL]
    for index, token in enumerate(tokens[:-2]):
        if (
            token.type != tokenize.NAME
            or token.string not in PYTHON_KEYWORDS
            or tokens[index + 1].string != "("
        ):
            continue
        args, current = [], ""
        for argument in tokens[index + 2 :]:
            if argument.type == tokenize.STRING:
                current += ast.literal_eval(argument.string)
            elif argument.string in {",", ")"}:
                args.append(current)
                current = ""
                if argument.string == ")":
                    break
        context_at, msgid_at = PYTHON_KEYWORDS[token.string]
        found.add((args[context_at] if context_at is not None else None, args[msgid_at]))
    return found


@functools.cache
def source_msgids() -> frozenset[tuple[str | None, str]]:
    found = set()
    for path in source_files():
        text = path.read_text(encoding="utf-8")
        found |= _python_msgids(text) if path.suffix == ".py" else _template_msgids(text)
    return frozenset(found)


def test_source_extraction_sees_the_known_strings():
    """Guards the guard: if extraction silently found nothing, the coverage test would prove nothing."""
    found = source_msgids()
    assert (None, "Skip to main content") in found  # {% translate %} in a template
    assert (None, "Inbox") in found  # _() inside a template tag
    assert (None, "Community manager") in found  # gettext_lazy as _ in Python
    assert (
        None,
        "You can try again %(minutes)s minute after your last attempt.",
    ) in found  # blocktranslate count


@pytest.mark.parametrize("language", ["es", "ca", "en"])
def test_catalogue_has_every_string_of_the_code(language):
    in_catalogue = {(entry.msgctxt, entry.msgid) for entry in catalogue(language) if not entry.obsolete}
    missing = sorted(source_msgids() - in_catalogue, key=lambda pair: pair[1])
    assert not missing, (
        f"{len(missing)} strings are not in locale/{language}: {missing[:10]} … {REFRESH_HINT}"
    )


@pytest.mark.parametrize("language", COMPLETE_LANGUAGES)
def test_catalogue_is_completely_translated(language):
    po = catalogue(language)
    assert not po.metadata_is_fuzzy, f"locale/{language}: the header is marked fuzzy"
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    assert not fuzzy, f"locale/{language}: fuzzy entries need a translator's eye: {fuzzy}"
    assert not untranslated, f"locale/{language}: untranslated: {untranslated}"


@pytest.mark.parametrize("language", ["es", "ca", "en"])
def test_catalogue_header_names_its_language(language):
    po = catalogue(language)
    assert po.metadata["Language"] == language
    assert po.metadata["Content-Type"] == "text/plain; charset=UTF-8"
    assert "nplurals=" in po.metadata["Plural-Forms"]


@pytest.mark.parametrize("language", COMPLETE_LANGUAGES)
def test_plurals_have_every_form_the_language_counts_with(language):
    """Spanish counts with three forms (Django's header: n == 1, millions, the rest): an entry with only
    two shows in English for "3 conversaciones", the third form being the one used for 0, 2, 3 …"""
    po = catalogue(language)
    forms = int(re.search(r"nplurals=(\d+)", po.metadata["Plural-Forms"]).group(1))
    short = [
        entry.msgid
        for entry in po.translated_entries()
        if entry.msgid_plural and any(not entry.msgstr_plural.get(index) for index in range(forms))
    ]
    assert not short, f"locale/{language}: plurals without all {forms} forms: {short}"
    with translation.override(language):
        for entry in po.translated_entries():
            if entry.msgid_plural:
                assert translation.ngettext(entry.msgid, entry.msgid_plural, 3) != entry.msgid_plural


@pytest.mark.parametrize("language", COMPLETE_LANGUAGES)
def test_translations_keep_the_placeholders(language):
    """A misspelt %(name)s makes Django raise at render time, in one language only; a lost one loses data."""
    broken = []
    for entry in catalogue(language).translated_entries():
        if not entry.msgid_plural:
            if set(PLACEHOLDER.findall(entry.msgstr)) != set(PLACEHOLDER.findall(entry.msgid)):
                broken.append((entry.msgid, entry.msgstr))
            continue
        plural = set(PLACEHOLDER.findall(entry.msgid_plural))
        for index, msgstr in sorted(entry.msgstr_plural.items()):
            found = set(PLACEHOLDER.findall(msgstr))
            # The singular form may spell the number out ("one minute") and leave the count out.
            if not found <= plural | set(PLACEHOLDER.findall(entry.msgid)) or (index > 0 and found != plural):
                broken.append((entry.msgid, msgstr))
    assert not broken, f"locale/{language}: placeholders differ from the source: {broken}"


@pytest.mark.parametrize("language", ["es", "ca", "en"])
def test_compiled_catalogue_matches_its_source(language):
    po = catalogue(language)
    mo = polib.mofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.mo"))

    def entries(entries):
        return {
            (entry.msgctxt, entry.msgid): (entry.msgstr, tuple(sorted(entry.msgstr_plural.items())))
            for entry in entries
            if entry.msgid
        }

    assert entries(mo) == entries(po.translated_entries()), (
        f"locale/{language}/LC_MESSAGES/django.mo is stale: run `.venv/bin/python manage.py compile_catalogues`"
    )
    assert mo.metadata.get("Plural-Forms") == po.metadata["Plural-Forms"]


def test_compile_catalogues_writes_what_django_reads(tmp_path, settings):
    language_dir = tmp_path / "ca" / "LC_MESSAGES"
    language_dir.mkdir(parents=True)
    po = polib.POFile()
    po.metadata = {
        "Language": "ca",
        "Content-Type": "text/plain; charset=UTF-8",
        "Plural-Forms": "nplurals=2; plural=(n != 1);",
    }
    po.append(polib.POEntry(msgid="Sign out", msgstr="Eixir"))
    po.append(polib.POEntry(msgid="Waiting", msgstr="Esperant", flags=["fuzzy"]))
    po.save(str(language_dir / "django.po"))
    settings.LOCALE_PATHS = [tmp_path]
    out = io.StringIO()

    call_command("compile_catalogues", stdout=out)

    compiled = polib.mofile(str(language_dir / "django.mo"))
    assert {entry.msgid: entry.msgstr for entry in compiled} == {"Sign out": "Eixir"}
    assert "1 translated, 0 untranslated, 1 fuzzy" in out.getvalue()


def test_pages_are_in_spanish_by_default(client, db):
    page = client.get(reverse("login")).content.decode()
    assert '<html lang="es">' in page
    assert "Iniciar sesión" in page


@pytest.mark.parametrize(
    ("language", "sign_in", "inbox"),
    [
        ("ca", "Inicia la sessió", "Safata d'entrada"),
        ("en", "Sign in", "Inbox"),
        ("es", "Iniciar sesión", "Bandeja de entrada"),
    ],
)
def test_chosen_language_is_used_from_then_on(client, manager, language, sign_in, inbox):
    response = client.post(reverse("set_language"), {"language": language, "next": reverse("login")})
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    login_page = client.get(reverse("login")).content.decode()
    assert f'<html lang="{language}">' in login_page
    assert sign_in in login_page
    assert f'<option value="{language}" lang="{language}" selected>' in login_page

    client.force_login(manager)
    home = client.get(reverse("home")).content.decode()
    assert f'<html lang="{language}">' in home
    assert inbox in home.replace("&#x27;", "'")


def test_chosen_language_is_remembered_beyond_the_browser_session(client, db):
    response = client.post(reverse("set_language"), {"language": "ca", "next": reverse("login")})
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "ca"
    assert int(cookie["max-age"]) >= 180 * 24 * 60 * 60
    assert cookie["samesite"] == "Lax"


def test_browser_language_is_followed_until_one_is_chosen(client, db):
    """Django's negotiation: the language cookie, then Accept-Language, then Spanish."""
    assert (
        "Inicia la sessió"
        in client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="ca-ES,ca;q=0.9").content.decode()
    )
    assert (
        "Iniciar sesión"
        in client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").content.decode()
    )
    client.post(reverse("set_language"), {"language": "es", "next": reverse("login")})
    assert "Iniciar sesión" in client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="ca").content.decode()


def test_valencian_is_offered_by_its_own_name(client, db):
    page = client.get(reverse("login")).content.decode()
    assert '<option value="ca" lang="ca">Valencià</option>' in page
    assert '<option value="en" lang="en">English</option>' in page
    assert '<option value="es" lang="es" selected>Español</option>' in page
