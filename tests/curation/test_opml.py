"""OPML import (safe parsing, categories, idempotence, progress) and export."""

import io

import pytest
from django.core.management import CommandError, call_command

from curation.models import OpmlImport, Source
from curation.opml import (
    BATCH_SIZE,
    OpmlError,
    opml_export,
    opml_import_create,
    opml_import_run,
    opml_import_start,
    opml_parse,
)
from curation.services import source_create

NESTED = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Suscripciones</title></head>
  <body>
    <outline text="Empleo">
      <outline text="Oficial">
        <outline type="rss" text="Labora" title="Labora — Ofertas" xmlUrl="https://labora.example.es/ofertas.xml"
                 htmlUrl="https://labora.example.es/"/>
        <outline type="rss" text="SEPE" xmlurl=" https://sepe.example.es/rss " />
      </outline>
      <outline type="rss" text="Infojobs blog" xmlUrl="https://blog.example.com/feed/"/>
    </outline>
    <outline title="Formació" text="ignored because title wins">
      <outline type="atom" text="Cursos GVA" xmlUrl="https://cursos.example.es/atom"/>
    </outline>
    <outline type="rss" text="Sin carpeta" XMLURL="https://suelto.example.org/rss.xml"/>
    <outline type="rss" text="Repetida" xmlUrl="https://labora.example.es/ofertas.xml"/>
    <outline type="link" text="Not a feed" url="https://example.org/"/>
  </body>
</opml>"""


def _opml(*outlines: str) -> str:
    return f'<?xml version="1.0"?><opml version="1.0"><head/><body>{"".join(outlines)}</body></opml>'


def _feed_outline(number: int) -> str:
    return f'<outline type="rss" text="Fuente {number}" xmlUrl="https://feeds.example.org/{number}.xml"/>'


# --- Reading --------------------------------------------------------------------------------------


def test_nested_outlines_become_categories_and_each_address_is_listed_once():
    feeds = opml_parse(NESTED)
    assert [(feed.url, feed.title, feed.category) for feed in feeds] == [
        ("https://labora.example.es/ofertas.xml", "Labora — Ofertas", "Empleo / Oficial"),
        ("https://sepe.example.es/rss", "SEPE", "Empleo / Oficial"),
        ("https://blog.example.com/feed/", "Infojobs blog", "Empleo"),
        ("https://cursos.example.es/atom", "Cursos GVA", "Formació"),
        ("https://suelto.example.org/rss.xml", "Sin carpeta", ""),
    ]
    assert feeds[0].site_url == "https://labora.example.es/"


@pytest.mark.django_db
def test_a_latin1_file_is_read_and_stored_with_its_declared_encoding():
    document = _opml('<outline text="Formació i ocupació" xmlUrl="https://a.example.es/rss"/>')
    document = document.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert opml_parse(document.encode("latin-1"))[0].title == "Formació i ocupació"
    opml_import = opml_import_create(document=document.encode("latin-1"), file_name="subs.opml")
    assert opml_parse(opml_import.document)[0].title == "Formació i ocupació"


XXE = """<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><body><outline text="&secret;" xmlUrl="https://a.example.es/rss"/></body></opml>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<opml version="2.0"><body><outline text="&lol9;" xmlUrl="https://a.example.es/rss"/></body></opml>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE opml SYSTEM "http://169.254.169.254/latest/meta-data/">
<opml version="2.0"><body><outline text="x" xmlUrl="https://a.example.es/rss"/></body></opml>"""


@pytest.mark.parametrize("document", [XXE, BILLION_LAUGHS], ids=["xxe", "billion-laughs"])
def test_entity_tricks_are_refused(document):
    with pytest.raises(OpmlError):
        opml_parse(document)


def test_an_external_doctype_is_never_fetched():
    # pytest-socket would fail the test if the parser tried to reach the address.
    feeds = opml_parse(EXTERNAL_DTD)
    assert [feed.url for feed in feeds] == ["https://a.example.es/rss"]


@pytest.mark.parametrize(
    "document",
    [
        "",
        "not xml at all",
        "<opml><body><outline",
        '<?xml version="1.0"?><rss version="2.0"><channel/></rss>',
        '<?xml version="1.0"?><opml version="2.0"><head/></opml>',
        b"\xff\xfe\x00garbage",
    ],
)
def test_a_file_that_is_not_opml_is_refused_with_a_reason(document):
    with pytest.raises(OpmlError) as caught:
        opml_parse(document)
    assert str(caught.value)


def test_a_file_nested_thousands_of_levels_deep_is_read_without_hitting_the_recursion_limit():
    depth = 20_000
    document = _opml("<outline text='carpeta'>" * depth + _feed_outline(1) + "</outline>" * depth)
    (feed,) = opml_parse(document)
    assert feed.url == "https://feeds.example.org/1.xml"
    assert len(feed.category) == 200
    assert feed.category.startswith("carpeta / carpeta")


def test_too_many_feeds_are_refused(monkeypatch):
    monkeypatch.setattr("curation.opml.MAX_FEEDS", 3)
    with pytest.raises(OpmlError) as caught:
        opml_parse(_opml(*(_feed_outline(n) for n in range(4))))
    assert "4" in str(caught.value)


def test_an_oversized_file_is_refused(monkeypatch):
    monkeypatch.setattr("curation.opml.MAX_DOCUMENT_BYTES", 1000)
    with pytest.raises(OpmlError):
        opml_parse(_opml(*(_feed_outline(n) for n in range(50))))


# --- Importing -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_creates_feed_sources_with_category_and_site(tmp_path):
    path = tmp_path / "subs.opml"
    path.write_text(NESTED, encoding="utf-8")
    out = io.StringIO()
    call_command("import_opml", str(path), stdout=out, stderr=io.StringIO())
    sources = {source.url: source for source in Source.objects.all()}
    assert set(sources) == {
        "https://labora.example.es/ofertas.xml",
        "https://sepe.example.es/rss",
        "https://blog.example.com/feed/",
        "https://cursos.example.es/atom",
        "https://suelto.example.org/rss.xml",
    }
    labora = sources["https://labora.example.es/ofertas.xml"]
    assert (labora.name, labora.kind, labora.category, labora.site_url) == (
        "Labora — Ofertas",
        "feed",
        "Empleo / Oficial",
        "https://labora.example.es/",
    )
    assert "5 new, 0 already there, 0 skipped" in out.getvalue()


@pytest.mark.django_db
def test_importing_the_same_file_twice_creates_nothing_the_second_time(tmp_path):
    source_create(name="Ya estaba", url="https://sepe.example.es/rss")
    path = tmp_path / "subs.opml"
    path.write_text(NESTED, encoding="utf-8")
    call_command("import_opml", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    second = io.StringIO()
    call_command("import_opml", str(path), stdout=second, stderr=io.StringIO())
    assert Source.objects.count() == 5
    assert Source.objects.get(url="https://sepe.example.es/rss").name == "Ya estaba"
    assert "0 new, 5 already there" in second.getvalue()
    first_run, second_run = OpmlImport.objects.order_by("id")
    assert (first_run.created, first_run.existing) == (4, 1)
    assert (second_run.created, second_run.existing, second_run.state) == (0, 5, OpmlImport.State.DONE)


@pytest.mark.django_db
def test_outlines_with_unusable_addresses_are_skipped_and_counted():
    document = _opml(
        '<outline text="ftp" xmlUrl="ftp://files.example.org/feed.xml"/>',
        '<outline text="js" xmlUrl="javascript:alert(1)"/>',
        '<outline text="nonsense" xmlUrl="not an address"/>',
        _feed_outline(1),
    )
    opml_import = opml_import_run(opml_import=opml_import_create(document=document))
    assert (opml_import.total, opml_import.created, opml_import.skipped) == (4, 1, 3)
    assert list(Source.objects.values_list("url", flat=True)) == ["https://feeds.example.org/1.xml"]


@pytest.mark.django_db
def test_a_large_import_reports_progress_after_each_batch():
    count = 2 * BATCH_SIZE + 20
    opml_import = opml_import_create(document=_opml(*(_feed_outline(n) for n in range(count))))
    seen = []

    def progress(running):
        stored = OpmlImport.objects.get(pk=running.pk)  # the counters are already saved
        seen.append((stored.done, stored.total, stored.state))

    opml_import_run(opml_import=opml_import, on_progress=progress)
    assert seen == [
        (BATCH_SIZE, count, "running"),
        (2 * BATCH_SIZE, count, "running"),
        (count, count, "running"),
    ]
    opml_import.refresh_from_db()
    assert (opml_import.state, opml_import.created, opml_import.finished_at is not None) == (
        "done",
        count,
        True,
    )
    assert Source.objects.count() == count


@pytest.mark.django_db
def test_an_interrupted_import_resumes_after_the_last_finished_batch():
    opml_import = opml_import_create(document=_opml(*(_feed_outline(n) for n in range(BATCH_SIZE + 5))))
    for number in range(BATCH_SIZE):  # what the first batch had committed before the worker died
        source_create(name=f"Fuente {number}", url=f"https://feeds.example.org/{number}.xml")
    OpmlImport.objects.filter(pk=opml_import.pk).update(done=BATCH_SIZE, created=BATCH_SIZE, state="running")
    opml_import.refresh_from_db()
    opml_import_run(opml_import=opml_import)
    opml_import.refresh_from_db()
    assert (opml_import.done, opml_import.created, opml_import.existing) == (
        BATCH_SIZE + 5,
        BATCH_SIZE + 5,
        0,
    )
    assert Source.objects.count() == BATCH_SIZE + 5


@pytest.mark.django_db
def test_a_finished_import_run_again_changes_nothing():
    opml_import = opml_import_run(opml_import=opml_import_create(document=_opml(_feed_outline(1))))
    Source.objects.all().delete()
    opml_import_run(opml_import=opml_import)
    assert Source.objects.count() == 0


@pytest.mark.django_db
def test_the_page_import_runs_in_the_worker_only_after_commit(manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        opml_import = opml_import_start(document=NESTED, file_name="subs.opml", actor=manager)
        assert Source.objects.count() == 0
    assert len(callbacks) == 1
    callbacks[0]()  # Celery runs eagerly in tests: this is the worker's task
    opml_import.refresh_from_db()
    assert (opml_import.state, opml_import.total, opml_import.done, opml_import.created) == ("done", 5, 5, 5)
    assert opml_import.created_by == manager


@pytest.mark.django_db
def test_the_command_refuses_a_bad_file(tmp_path):
    path = tmp_path / "evil.opml"
    path.write_text(XXE, encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_opml", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError):
        call_command("import_opml", str(tmp_path / "missing.opml"), stdout=io.StringIO())
    assert Source.objects.count() == 0


# --- Writing -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_nests_categories_and_round_trips_through_import(tmp_path):
    source_create(
        name="Labora & co",
        url="https://labora.example.es/ofertas.xml",
        category="Empleo / Oficial",
        site_url="https://labora.example.es/",
    )
    source_create(name="Blog", url="https://blog.example.com/feed/?a=1&b=2", category="Empleo")
    source_create(name="Suelta", url="https://suelto.example.org/rss.xml")
    source_create(name="Página", url="https://pagina.example.org/", kind="page", item_selector="article")
    before = set(Source.objects.filter(kind="feed").values_list("url", "name", "category", "site_url"))

    out = io.StringIO()
    call_command("export_opml", stdout=out)
    document = out.getvalue()
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert "pagina.example.org" not in document
    empleo = document.index('text="Empleo"')
    assert empleo < document.index('text="Oficial"') < document.index("labora.example.es/ofertas.xml")

    Source.objects.all().delete()
    path = tmp_path / "export.opml"
    path.write_text(document, encoding="utf-8")
    call_command("import_opml", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert set(Source.objects.values_list("url", "name", "category", "site_url")) == before


@pytest.mark.django_db
def test_export_writes_to_a_file(tmp_path):
    source_create(name="Uno", url="https://uno.example.org/rss")
    path = tmp_path / "out.opml"
    call_command("export_opml", "--output", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert [feed.url for feed in opml_parse(path.read_bytes())] == ["https://uno.example.org/rss"]
    assert opml_export().count("<outline") == 1
