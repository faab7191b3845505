"""Curation pages: the reading queue, hidden items, an item, sources and their health, OPML.

Reading needs READ_DESK (the supervisor reads too); every change needs WORK_DESK. An htmx request
gets the same template fragment the full page includes, so there is one copy of each piece of markup.
"""

import copy
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from curation.forms import (
    BulkActionForm,
    DiscoverForm,
    HiddenFilterForm,
    MuteForm,
    OpmlUploadForm,
    QueueFilterForm,
    SourceForm,
)
from curation.models import Item, ItemState, Source
from curation.opml import OpmlError, opml_export, opml_import_start
from curation.queries_ui import feeds_discover, opml_import_progress, opml_imports_recent
from curation.selectors import COUNT_CAP, hidden_page, item_get, queue_counts, queue_page, source_health
from curation.services import (
    item_discard,
    item_restore,
    item_shortlist,
    items_set_state,
    source_create,
    source_delete,
    source_fetch_soon,
    source_mute,
    source_rule_test,
    source_unmute,
    source_update,
)
from scheduling.services import post_draft_from_item
from socialdesk.access import Capability, require

ITEM_ACTIONS = {
    "shortlist": (item_shortlist, gettext_lazy("“%(title)s” is shortlisted.")),
    "discard": (item_discard, gettext_lazy("“%(title)s” is discarded.")),
    "restore": (item_restore, gettext_lazy("“%(title)s” is back in the queue as new.")),
}


def _item_or_404(item_id: int) -> Item:
    try:
        return item_get(item_id=item_id)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


def _back(request: HttpRequest) -> str:
    """Where an action returns: the page it came from (``next``), if it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("curation:queue")


# --- Reading queue ------------------------------------------------------------------------------


@require(Capability.READ_DESK)
def queue(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    filters = form.filters()
    counts = queue_counts()
    context = {
        "form": form,
        "state": filters["state"],
        "tabs": [
            (state, label, counts[state], counts[state] > COUNT_CAP) for state, label in ItemState.choices
        ],
        "count_cap": COUNT_CAP,
        "page": queue_page(**filters, page=request.GET.get("page", 1)),
        "bulk_form": BulkActionForm(),
        "next": request.get_full_path(),
    }
    template = "curation/_queue.html" if request.htmx else "curation/queue.html"
    return render(request, template, context)


@require(Capability.READ_DESK)
def hidden(request: HttpRequest) -> HttpResponse:
    form = HiddenFilterForm(request.GET or None)
    page = hidden_page(reason=form.reason_value(), page=request.GET.get("page", 1))
    return render(request, "curation/hidden.html", {"form": form, "page": page})


@require(Capability.READ_DESK)
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    return render(
        request, "curation/item.html", {"item": _item_or_404(item_id), "next": request.get_full_path()}
    )


@require(Capability.WORK_DESK)
@require_POST
def item_move(request: HttpRequest, item_id: int, action: str) -> HttpResponse:
    """Shortlist, discard or restore one item; an htmx request gets the item's row back."""
    item = _item_or_404(item_id)
    service, done = ITEM_ACTIONS[action]
    service(item=item, actor=request.user)
    if request.htmx:
        return render(request, "curation/_item.html", {"item": item, "row": True, "next": _back(request)})
    messages.success(request, done % {"title": item.title})
    return redirect(_back(request))


@require(Capability.WORK_DESK)
@require_POST
def items_bulk(request: HttpRequest) -> HttpResponse:
    form = BulkActionForm(request.POST)
    if form.is_valid():
        changed = items_set_state(item_ids=form.cleaned_data["items"], state=form.state, actor=request.user)
        messages.success(
            request,
            ngettext("%(count)d item changed.", "%(count)d items changed.", changed) % {"count": changed},
        )
    else:
        messages.error(request, _("Choose an action and tick at least one item."))
    return redirect(_back(request))


@require(Capability.WORK_DESK)
@require_POST
def item_compose(request: HttpRequest, item_id: int) -> HttpResponse:
    """Compose from item: a draft post with the item's title, link and hashtags, opened in the
    composer to finish and publish; the item is used."""
    post = post_draft_from_item(item=_item_or_404(item_id), by=request.user)
    messages.success(request, _("Draft post started; the item is marked as used."))
    return redirect(f"{reverse('publishing:compose')}?{urlencode({'post': post.pk})}")


# --- Sources ------------------------------------------------------------------------------------


@require(Capability.READ_DESK)
def sources(request: HttpRequest) -> HttpResponse:
    rows = source_health()
    return render(
        request,
        "curation/sources.html",
        {
            "rows": rows,
            "attention": sum(row.needs_attention for row in rows),
            "mute_form": MuteForm(),
        },
    )


def _source_form_page(request: HttpRequest, form: SourceForm, source: Source | None) -> HttpResponse:
    """The create and edit pages: save, or (the "test this rule" button) show what the unsaved rule reads."""
    if request.method == "POST" and "test_rule" in request.POST:
        arguments = form.rule_test_arguments()
        result = source_rule_test(**arguments) if arguments is not None else None
        context = {"form": form, "source": source, "rule_test": result, "rule_tested": True}
        if request.htmx:
            return render(request, "curation/_rule_test.html", context)
        return render(request, "curation/source_form.html", {**context, "discover_form": DiscoverForm()})
    if request.method == "POST" and form.is_valid():
        if source is None:
            saved = source_create(**form.cleaned_data)
            messages.success(
                request, _("Source “%(name)s” added; it will be read within a minute.") % {"name": saved.name}
            )
        else:
            saved = source_update(source=source, **form.cleaned_data)
            messages.success(request, _("Source “%(name)s” saved.") % {"name": saved.name})
        return redirect(f"{reverse('curation:sources')}#source-{saved.pk}")
    return render(
        request,
        "curation/source_form.html",
        {"form": form, "source": source, "discover_form": DiscoverForm()},
    )


PREFILL_FIELDS = ("name", "url", "kind", "site_url")


@require(Capability.WORK_DESK)
def source_new(request: HttpRequest) -> HttpResponse:
    # A feed found by discovery arrives with its address and name filled in (?url=…&name=…).
    initial = {name: request.GET[name] for name in PREFILL_FIELDS if name in request.GET}
    form = SourceForm(request.POST if request.method == "POST" else None, initial=initial)
    return _source_form_page(request, form, source=None)


@require(Capability.WORK_DESK)
def source_edit(request: HttpRequest, source_id: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=source_id)
    # The form writes the submitted values on its instance; the service must see the stored ones
    # to know what changed (a new address or rule is fetched afresh).
    form = SourceForm(request.POST if request.method == "POST" else None, instance=copy.copy(source))
    return _source_form_page(request, form, source=source)


@require(Capability.WORK_DESK)
@require_POST
def source_discover(request: HttpRequest) -> HttpResponse:
    form = DiscoverForm(request.POST)
    context = {
        "discover_form": form,
        "discovery": feeds_discover(site_url=form.cleaned_data["site"]) if form.is_valid() else None,
    }
    if request.htmx:
        return render(request, "curation/_discovered.html", context)
    return render(request, "curation/source_form.html", {**context, "form": SourceForm(), "source": None})


@require(Capability.WORK_DESK)
@require_POST
def source_mute_view(request: HttpRequest, source_id: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=source_id)
    form = MuteForm(request.POST)
    if form.is_valid():
        source_mute(source=source, reason=form.cleaned_data["reason"])
        messages.success(
            request,
            _("“%(name)s” is muted: it will not be read until you unmute it.") % {"name": source.name},
        )
    else:
        messages.error(request, _("Say why the source is muted, so it is clear later."))
    return redirect(f"{reverse('curation:sources')}#source-{source.pk}")


@require(Capability.WORK_DESK)
@require_POST
def source_unmute_view(request: HttpRequest, source_id: int) -> HttpResponse:
    source = source_unmute(source=get_object_or_404(Source, pk=source_id))
    messages.success(
        request,
        _("“%(name)s” is listened to again; it will be read within a minute.") % {"name": source.name},
    )
    return redirect(f"{reverse('curation:sources')}#source-{source.pk}")


@require(Capability.WORK_DESK)
@require_POST
def source_fetch_now(request: HttpRequest, source_id: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=source_id)
    if source.muted:
        # The beat never reads a muted source: saying "within a minute" would be untrue.
        messages.error(request, _("“%(name)s” is muted: unmute it to read it again.") % {"name": source.name})
        return redirect(f"{reverse('curation:sources')}#source-{source.pk}")
    source = source_fetch_soon(source=source)
    messages.success(
        request,
        _("“%(name)s” will be read within a minute; reload this page to see the result.")
        % {"name": source.name},
    )
    return redirect(f"{reverse('curation:sources')}#source-{source.pk}")


@require(Capability.WORK_DESK)
def source_delete_view(request: HttpRequest, source_id: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes the source and its items."""
    source = get_object_or_404(Source, pk=source_id)
    if request.method == "POST":
        source_delete(source=source, actor=request.user, request=request)
        messages.success(request, _("Source “%(name)s” deleted.") % {"name": source.name})
        return redirect("curation:sources")
    return render(request, "curation/source_delete.html", {"source": source, "items": source.items.count()})


# --- OPML ---------------------------------------------------------------------------------------


def _opml_page(request: HttpRequest, form: OpmlUploadForm) -> HttpResponse:
    return render(request, "curation/opml.html", {"form": form, "imports": opml_imports_recent()})


@require(Capability.READ_DESK)
def opml(request: HttpRequest) -> HttpResponse:
    return _opml_page(request, OpmlUploadForm())


@require(Capability.WORK_DESK)
@require_POST
def opml_upload(request: HttpRequest) -> HttpResponse:
    form = OpmlUploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            started = opml_import_start(document=upload.read(), file_name=upload.name, actor=request.user)
        except OpmlError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("curation:opml_import", import_id=started.pk)
    return _opml_page(request, form)


@require(Capability.READ_DESK)
def opml_import(request: HttpRequest, import_id: int) -> HttpResponse:
    """An import's progress; the page polls this same view for its progress fragment until it ends."""
    try:
        progress = opml_import_progress(import_id=import_id)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    template = "curation/_opml_progress.html" if request.htmx else "curation/opml_import.html"
    return render(request, template, {"progress": progress})


@require(Capability.READ_DESK)
def opml_download(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(opml_export(), content_type="text/x-opml; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="socialdesk-sources.opml"'
    return response
