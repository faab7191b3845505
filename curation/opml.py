"""OPML: read a list of feeds into sources (with progress for large files) and write sources out.

Reading goes through defusedxml, which refuses entity declarations and external references, so a
"billion laughs" or XXE file fails as unreadable instead of eating memory or reading local files.
Nested outlines are categories: a feed inside "Empleo" › "Oficial" gets the category
"Empleo / Oficial" and is written back inside the same nesting.

An import is an ``OpmlImport`` row: created (and parsed, so a bad file is refused at once) by
``opml_import_create`` / ``opml_import_start``, then run by ``opml_import_run`` in batches, each
batch committing its sources together with the progress counters. A run that is interrupted
resumes where the last batch ended; a run of a finished import changes nothing.
"""

from __future__ import annotations

import codecs
import logging
import re
import xml.etree.ElementTree as ET  # writing, and ParseError; reading goes through defusedxml
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email.utils import format_datetime

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from curation.models import OpmlImport, Source, SourceKind
from curation.services import source_create, source_url_normalize

logger = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024  # thousands of feeds fit in far less
MAX_FEEDS = 5000
BATCH_SIZE = 50  # sources created per transaction; progress is written after each batch
CATEGORY_SEPARATOR = " / "
_PROLOG_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_NAME_CHARS = Source._meta.get_field("name").max_length
_CATEGORY_CHARS = Source._meta.get_field("category").max_length


class OpmlError(Exception):
    """The document cannot be imported; the message is for the person who uploaded it."""


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str
    site_url: str
    category: str


# --- Reading --------------------------------------------------------------------------------------


def _attributes(element) -> dict[str, str]:
    # Exporters disagree on the case of xmlUrl/htmlUrl (xmlurl, XMLURL): compare in lower case.
    return {name.lower(): (value or "").strip() for name, value in element.attrib.items()}


def _is(element, tag: str) -> bool:
    return isinstance(element.tag, str) and element.tag.lower() == tag


def _walk(body) -> Iterator[OpmlFeed]:
    """Every feed outline under ``body``, in document order, with its folder path as category.

    Iterative, and the category is built one level at a time and capped, so a hostile file nested
    thousands of levels deep costs neither the recursion limit nor quadratic time."""
    stack: list[tuple[Iterator, str]] = [(iter(body), "")]
    while stack:
        children, category = stack[-1]
        outline = next(children, None)
        if outline is None:
            stack.pop()
            continue
        if not _is(outline, "outline"):
            continue
        attributes = _attributes(outline)
        label = attributes.get("title") or attributes.get("text") or ""
        url = attributes.get("xmlurl", "")
        if url:
            yield OpmlFeed(
                url=source_url_normalize(url),
                title=label,
                site_url=attributes.get("htmlurl", ""),
                category=category,
            )
        # A feed outline with children is unusual but seen; its children keep the folder path.
        if url or not label:
            stack.append((iter(outline), category))
        else:
            folder = f"{category}{CATEGORY_SEPARATOR}{label}" if category else label
            stack.append((iter(outline), folder[:_CATEGORY_CHARS]))


def opml_parse(document: str | bytes) -> list[OpmlFeed]:
    """The feeds listed in an OPML document, each address once, in document order."""
    size = len(document.encode() if isinstance(document, str) else document)
    if size > MAX_DOCUMENT_BYTES:
        raise OpmlError(
            _("The file is too large (%(size)d bytes; at most %(limit)d).")
            % {"size": size, "limit": MAX_DOCUMENT_BYTES}
        )
    try:
        root = fromstring(document)
    except DefusedXmlException as exc:
        raise OpmlError(
            _("The file declares XML entities or external references, which are not accepted.")
        ) from exc
    except (ET.ParseError, ValueError) as exc:
        raise OpmlError(_("The file is not valid XML: %(error)s") % {"error": exc}) from exc
    if not _is(root, "opml"):
        raise OpmlError(_("The file is XML but not OPML (its root element is not <opml>)."))
    body = next((child for child in root if _is(child, "body")), None)
    if body is None:
        raise OpmlError(_("The OPML file has no <body> with outlines."))
    feeds: dict[str, OpmlFeed] = {}
    for feed in _walk(body):
        feeds.setdefault(feed.url, feed)
    if len(feeds) > MAX_FEEDS:
        raise OpmlError(
            _("The file lists %(count)d feeds; at most %(limit)d can be imported at once.")
            % {"count": len(feeds), "limit": MAX_FEEDS}
        )
    return list(feeds.values())


# --- Importing -------------------------------------------------------------------------------------


def _as_text(document: str | bytes) -> str:
    """The document as text for storage, decoded the way its BOM or XML prolog says (UTF-8 if
    silent). ElementTree reads a str regardless of the encoding its prolog names."""
    if isinstance(document, str):
        return document
    if document.startswith(codecs.BOM_UTF8):
        return document.decode("utf-8-sig")
    if document.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return document.decode("utf-16")
    declared = _PROLOG_ENCODING.match(document)
    try:
        return document.decode(declared.group(1).decode("ascii") if declared else "utf-8")
    except (LookupError, UnicodeDecodeError) as exc:
        raise OpmlError(_("The file's text encoding could not be read.")) from exc


def opml_import_create(*, document: str | bytes, file_name: str = "", actor=None) -> OpmlImport:
    """Check the document and record the import, not run yet. Raises OpmlError for a bad file."""
    feeds = opml_parse(document)
    return OpmlImport.objects.create(
        document=_as_text(document),
        file_name=file_name[:255],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        total=len(feeds),
    )


def opml_import_start(*, document: str | bytes, file_name: str = "", actor=None) -> OpmlImport:
    """Record the import and run it in the worker once this transaction commits (the web page)."""
    from curation.tasks import import_opml

    opml_import = opml_import_create(document=document, file_name=file_name, actor=actor)
    transaction.on_commit(lambda: import_opml.delay(opml_import.pk))
    return opml_import


def _batches(items: list[OpmlFeed], size: int) -> Iterator[list[OpmlFeed]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _import_batch(opml_import: OpmlImport, batch: list[OpmlFeed]) -> None:
    existing = set(Source.objects.filter(url__in=[feed.url for feed in batch]).values_list("url", flat=True))
    created = skipped = 0
    for feed in batch:
        if feed.url in existing:
            continue
        try:
            with transaction.atomic():
                source_create(
                    name=(feed.title or feed.url)[:_NAME_CHARS],
                    url=feed.url,
                    kind=SourceKind.FEED,
                    site_url=feed.site_url
                    if feed.site_url.lower().startswith(("http://", "https://"))
                    else "",
                    category=feed.category,
                )
        except ValidationError as exc:
            skipped += 1
            logger.info("OPML import %s skipped %r: %s", opml_import.pk, feed.url, exc.messages)
            continue
        created += 1
        existing.add(feed.url)
    opml_import.done += len(batch)
    opml_import.created += created
    opml_import.skipped += skipped
    opml_import.existing += len(batch) - created - skipped
    opml_import.save(update_fields=["done", "created", "skipped", "existing"])


def opml_import_run(
    *, opml_import: OpmlImport, on_progress: Callable[[OpmlImport], None] | None = None
) -> OpmlImport:
    """Create the sources of an import, BATCH_SIZE at a time, calling ``on_progress`` after each
    batch (the counters on the row are already saved then). Same address twice → one source."""
    if opml_import.state in (OpmlImport.State.DONE, OpmlImport.State.FAILED):
        return opml_import
    opml_import.state = OpmlImport.State.RUNNING
    opml_import.save(update_fields=["state"])
    try:
        feeds = opml_parse(opml_import.document)
        for batch in _batches(feeds[opml_import.done :], BATCH_SIZE):
            with transaction.atomic():
                _import_batch(opml_import, batch)
            if on_progress is not None:
                on_progress(opml_import)
    except OpmlError as exc:
        return _finish(opml_import, OpmlImport.State.FAILED, str(exc))
    except Exception:
        logger.exception("OPML import %s failed", opml_import.pk)
        _finish(
            opml_import,
            OpmlImport.State.FAILED,
            _("Something went wrong on our side; the details are in the worker's log."),
        )
        raise
    return _finish(opml_import, OpmlImport.State.DONE, "")


def _finish(opml_import: OpmlImport, state: str, error: str) -> OpmlImport:
    opml_import.state = state
    opml_import.error = error
    opml_import.finished_at = timezone.now()
    opml_import.save(update_fields=["state", "error", "finished_at"])
    return opml_import


# --- Writing -------------------------------------------------------------------------------------


def opml_export(*, sources: Iterable[Source] | None = None, title: str = "SocialDesk") -> str:
    """An OPML 2.0 document of the feed sources, nested by category."""
    if sources is None:
        sources = Source.objects.filter(kind=SourceKind.FEED).order_by("category", "name", "id")
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(timezone.now(), usegmt=True)
    body = ET.SubElement(root, "body")
    folders: dict[tuple[str, ...], ET.Element] = {(): body}
    for source in sources:
        path = tuple(
            part.strip() for part in source.category.split(CATEGORY_SEPARATOR.strip()) if part.strip()
        )
        parent = _folder(folders, path)
        attributes = {"type": "rss", "text": source.name, "title": source.name, "xmlUrl": source.url}
        if source.site_url:
            attributes["htmlUrl"] = source.site_url
        ET.SubElement(parent, "outline", attributes)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _folder(folders: dict[tuple[str, ...], ET.Element], path: tuple[str, ...]) -> ET.Element:
    if path not in folders:
        parent = _folder(folders, path[:-1])
        folders[path] = ET.SubElement(parent, "outline", {"text": path[-1], "title": path[-1]})
    return folders[path]
