"""OPML from the browser: upload, progress polled by htmx until done, export."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from curation.models import OpmlImport, Source, SourceKind
from curation.opml import MAX_DOCUMENT_BYTES

HTMX = {"HTTP_HX_REQUEST": "true"}
FEEDS = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Mis fuentes</title></head><body>
  <outline text="Empleo">
    <outline type="rss" text="LABORA" xmlUrl="https://labora.example.es/rss"/>
    <outline type="rss" text="SEPE" xmlUrl="https://sepe.example.es/rss"/>
  </outline>
  <outline type="rss" text="Sin dirección válida" xmlUrl="javascript:alert(1)"/>
</body></opml>"""


def _upload(content: bytes | str, name: str = "fuentes.opml") -> dict:
    data = content.encode() if isinstance(content, str) else content
    return {"file": SimpleUploadedFile(name, data, content_type="text/x-opml")}


def test_an_upload_is_imported_in_the_background_and_its_progress_shown(
    manager_client, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = manager_client.post(reverse("curation:opml_upload"), _upload(FEEDS))

    opml_import = OpmlImport.objects.get()
    assert len(callbacks) == 1  # the task is queued once the upload is committed
    assert response["Location"] == reverse("curation:opml_import", args=[opml_import.pk])
    assert (opml_import.file_name, opml_import.created_by, opml_import.total) == ("fuentes.opml", manager, 3)
    assert sorted(Source.objects.values_list("name", "category")) == [
        ("LABORA", "Empleo"),
        ("SEPE", "Empleo"),
    ]

    page = manager_client.get(response["Location"]).content.decode()
    assert "<html" in page
    assert '<section id="opml-progress"' in page
    assert "hx-trigger" not in page  # finished: no more polling
    assert re.search(r"3 .*2 .*0 .*1 ", re.search(r'<p role="status">(.*?)</p>', page, re.S).group(1), re.S)


def test_the_progress_fragment_polls_itself_while_the_import_runs(supervisor_client):
    running = OpmlImport.objects.create(
        document="<opml/>", file_name="grande.opml", state=OpmlImport.State.RUNNING, total=120, done=50
    )
    url = reverse("curation:opml_import", args=[running.pk])

    fragment = supervisor_client.get(url, **HTMX).content.decode()
    full = supervisor_client.get(url).content.decode()

    assert "<html" not in fragment and fragment.strip().startswith('<section id="opml-progress"')
    assert f'hx-get="{url}" hx-trigger="every 1s" hx-swap="outerHTML"' in fragment
    assert '<progress max="120" value="50"' in fragment
    assert fragment.strip() in full  # one fragment serves both

    OpmlImport.objects.filter(pk=running.pk).update(state=OpmlImport.State.FAILED, error="El archivo <roto>")
    failed = supervisor_client.get(url, **HTMX).content.decode()
    assert "hx-trigger" not in failed
    assert "El archivo &lt;roto&gt;" in failed


def test_a_bad_file_is_refused_in_plain_words_and_nothing_is_recorded(manager_client):
    response = manager_client.post(reverse("curation:opml_upload"), _upload("<html><body>hola</body></html>"))

    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert "OPML" in response.context["form"].errors["file"][0]
    assert 'aria-invalid="true"' in response.content.decode()
    assert not OpmlImport.objects.exists()


def test_a_file_larger_than_allowed_is_refused_before_reading_it(manager_client):
    response = manager_client.post(reverse("curation:opml_upload"), _upload(b" " * (MAX_DOCUMENT_BYTES + 1)))
    assert "file" in response.context["form"].errors
    assert not OpmlImport.objects.exists()


def test_export_downloads_every_feed_source(supervisor_client, make_source):
    make_source(name="LABORA & co", url="https://labora.example.es/rss", category="Empleo")
    make_source(name="Página", url="https://e.org/p", kind=SourceKind.PAGE, item_selector="li")

    response = supervisor_client.get(reverse("curation:opml_export"))

    assert response["Content-Type"] == "text/x-opml; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="socialdesk-sources.opml"'
    body = response.content.decode()
    assert 'xmlUrl="https://labora.example.es/rss"' in body and "LABORA &amp; co" in body
    assert "https://e.org/p" not in body


@pytest.mark.parametrize(("who", "can_upload"), [("manager", True), ("supervisor", False)])
def test_the_opml_page_lists_imports_and_offers_the_upload_to_the_manager_only(
    client, request, manager, who, can_upload
):
    OpmlImport.objects.create(document="<opml/>", file_name="<b>viejas</b>.opml", created_by=manager)
    client.force_login(request.getfixturevalue(who))

    page = client.get(reverse("curation:opml")).content.decode()

    assert "&lt;b&gt;viejas&lt;/b&gt;.opml" in page
    assert (f'action="{reverse("curation:opml_upload")}"' in page) is can_upload
    assert f'href="{reverse("curation:opml_export")}"' in page
