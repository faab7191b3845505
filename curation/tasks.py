"""Curation's background work: thin tasks that take ids and call a service."""

from celery import shared_task

from curation.models import OpmlImport
from curation.opml import opml_import_run
from curation.services import source_fetch_claimed, sources_dispatch_due


@shared_task(name="curation.tasks.fetch_due_sources")
def fetch_due_sources() -> int:
    """Beat: claim the sources that are due and queue one fetch per source."""
    return len(sources_dispatch_due())


@shared_task(name="curation.tasks.fetch_source")
def fetch_source(source_id: int) -> None:
    """Fetch one claimed source. Errors are stored on the source, so there is nothing to retry here:
    the source's own schedule (with backoff) brings it back."""
    source_fetch_claimed(source_id=source_id)


@shared_task(name="curation.tasks.import_opml")
def import_opml(import_id: int) -> None:
    """Run an OPML import recorded by ``opml_import_start``; it writes its progress on the row as it
    goes, and a redelivered task resumes after the last finished batch."""
    opml_import = OpmlImport.objects.filter(pk=import_id).first()
    if opml_import is not None:
        opml_import_run(opml_import=opml_import)


@shared_task(name="curation.tasks.rescore_new_items")
def rescore_new_items(user_id: int | None = None) -> int:
    """Score the new items again after the manager (``user_id``) changed the topics; returns how many
    changed."""
    from curation.topics import items_rescore_new
    from socialdesk.models import User

    actor = User.objects.filter(pk=user_id).first() if user_id is not None else None
    return items_rescore_new(actor=actor).changed
