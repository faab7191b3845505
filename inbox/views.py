"""Inbox pages: the queue, a conversation, and the changes the manager makes to it.

Reading needs READ_DESK (the supervisor reads too); every change needs WORK_DESK. The queue's
htmx request (a filter change, the periodic refresh) gets the same fragment the full page includes.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inbox.forms import CloseForm, HideForm, NoteForm, QueueFilterForm, ReplyForm, SnoozeForm, TagForm
from inbox.models import Contact, Conversation, Identity, Message, Reply, Tag
from inbox.selectors import (
    QUEUE_COUNT_CAP,
    QUEUE_VIEWS,
    canned_replies_search,
    contact_history,
    contacts_search,
    conversation_about_post,
    conversation_get,
    conversation_pending_replies,
    conversation_thread,
    queue_counts,
    queue_page,
)
from inbox.services import (
    InboxRefused,
    contact_merge,
    conversation_assign,
    conversation_close,
    conversation_mark_spam,
    conversation_reopen,
    conversation_snooze,
    conversation_tag,
    conversation_untag,
    conversation_wait_for_citizen,
    identity_detach,
    message_hide,
    note_add,
    reply_create,
    reply_kinds_allowed,
    reply_retry,
    reply_window_closes_at,
)
from networks.registry import connector_for
from socialdesk.access import Capability, require

# How often an open queue asks for new messages (htmx polling of the list fragment).
QUEUE_REFRESH_SECONDS = 20


def _conversation_or_404(conversation_id: int) -> Conversation:
    try:
        return conversation_get(conversation_id=conversation_id)
    except Conversation.DoesNotExist as exc:
        raise Http404 from exc


@require(Capability.READ_DESK)
def queue(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    filters = form.filters()
    counts = queue_counts(user=request.user)
    context = {
        "form": form,
        "view": filters["view"],
        "views": [(slug, view.label, counts[slug]) for slug, view in QUEUE_VIEWS.items()],
        "count_cap": QUEUE_COUNT_CAP,
        "page": queue_page(user=request.user, **filters, page=request.GET.get("page", 1)),
        "refresh_seconds": QUEUE_REFRESH_SECONDS,
    }
    template = "inbox/_queue.html" if request.htmx else "inbox/queue.html"
    return render(request, template, context)


def _reply_form(conversation: Conversation, data=None) -> ReplyForm:
    capabilities = connector_for(conversation.channel).capabilities
    return ReplyForm(data, kinds=reply_kinds_allowed(conversation), max_length=capabilities.max_length)


def _conversation_page(request: HttpRequest, conversation: Conversation, **forms) -> HttpResponse:
    capabilities = connector_for(conversation.channel).capabilities
    context = {
        "conversation": conversation,
        "thread": conversation_thread(conversation),
        "about_post": conversation_about_post(conversation),
        "pending_replies": conversation_pending_replies(conversation),
        "notes": conversation.notes.select_related("author"),
        "history": contact_history(conversation),
        "capabilities": capabilities,
        "window_closes_at": reply_window_closes_at(conversation),
        "now": timezone.now(),
        "reply_form": forms.get("reply_form") or _reply_form(conversation),
        "close_form": CloseForm(),
        "snooze_form": SnoozeForm(),
        "tag_form": TagForm(),
        # Ids of its own: the reply form on the same page has a "text" field too.
        "note_form": NoteForm(auto_id="id_note_%s"),
        "hide_form": HideForm(),
    }
    return render(request, "inbox/conversation.html", context, status=400 if forms else 200)


@require(Capability.READ_DESK)
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    return _conversation_page(request, _conversation_or_404(conversation_id))


@require(Capability.READ_DESK)
def canned_search(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Canned replies matching the words typed, with {nombre} and {enlace} filled in for the conversation."""
    conversation = _conversation_or_404(conversation_id)
    variables = {
        "nombre": conversation.contact.display_name if conversation.contact else "",
        "enlace": settings.SOCIALDESK_CONTACT_URL,
    }
    replies = [
        (canned, canned.text.format_map(_Missing(variables)))
        for canned in canned_replies_search(q=request.GET.get("q", ""))
    ]
    return render(request, "inbox/_canned.html", {"replies": replies})


class _Missing(dict):
    """Leaves an unknown {variable} as written instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@require(Capability.WORK_DESK)
@require_POST
def reply_send(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    form = _reply_form(conversation, request.POST)
    if form.is_valid():
        try:
            reply_create(
                conversation=conversation,
                author=request.user,
                text=form.cleaned_data["text"],
                kind=form.cleaned_data["kind"],
            )
        except InboxRefused as exc:
            form.add_error("text", str(exc))
        else:
            messages.success(request, _("The reply is on its way."))
            return redirect("inbox:conversation", conversation_id=conversation.pk)
    return _conversation_page(request, conversation, reply_form=form)


def _act(request: HttpRequest, conversation: Conversation, action, done: str) -> HttpResponse:
    """Run one service; its refusal becomes an error message on the conversation page."""
    try:
        action()
    except InboxRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("inbox:conversation", conversation_id=conversation.pk)


@require(Capability.WORK_DESK)
@require_POST
def reply_retry_view(request: HttpRequest, conversation_id: int, reply_id: int) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    reply = get_object_or_404(Reply, pk=reply_id, conversation=conversation)
    return _act(request, conversation, lambda: reply_retry(reply=reply), _("The reply is on its way again."))


@require(Capability.WORK_DESK)
@require_POST
def close(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how the conversation ends."))
        return redirect("inbox:conversation", conversation_id=conversation.pk)
    resolution = form.cleaned_data["resolution"]
    return _act(
        request,
        conversation,
        lambda: conversation_close(conversation=conversation, actor=request.user, resolution=resolution),
        _("Conversation closed."),
    )


@require(Capability.WORK_DESK)
@require_POST
def reopen(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    return _act(
        request,
        conversation,
        lambda: conversation_reopen(conversation=conversation, actor=request.user),
        _("Conversation reopened."),
    )


@require(Capability.WORK_DESK)
@require_POST
def snooze(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That is not a valid date and time."))
        return redirect("inbox:conversation", conversation_id=conversation.pk)
    until = form.cleaned_data["until"]
    return _act(
        request,
        conversation,
        lambda: conversation_snooze(conversation=conversation, until=until),
        _("Conversation snoozed."),
    )


@require(Capability.WORK_DESK)
@require_POST
def wait(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    return _act(
        request,
        conversation,
        lambda: conversation_wait_for_citizen(conversation=conversation),
        _("Now waiting for the citizen."),
    )


@require(Capability.WORK_DESK)
@require_POST
def assign(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    return _act(
        request,
        conversation,
        lambda: conversation_assign(conversation=conversation, user=request.user),
        _("The conversation is yours."),
    )


@require(Capability.WORK_DESK)
@require_POST
def spam(request: HttpRequest, conversation_id: int, spam: bool) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    return _act(
        request,
        conversation,
        lambda: conversation_mark_spam(conversation=conversation, spam=spam),
        _("Marked as spam.") if spam else _("No longer marked as spam."),
    )


@require(Capability.WORK_DESK)
@require_POST
def tag_add(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    name = request.POST.get("name", "")
    return _act(
        request, conversation, lambda: conversation_tag(conversation=conversation, name=name), _("Tag added.")
    )


@require(Capability.WORK_DESK)
@require_POST
def tag_remove(request: HttpRequest, conversation_id: int, tag_id: int) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    tag = get_object_or_404(Tag, pk=tag_id)
    return _act(
        request,
        conversation,
        lambda: conversation_untag(conversation=conversation, tag=tag),
        _("Tag removed."),
    )


@require(Capability.WORK_DESK)
@require_POST
def note_add_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    text = request.POST.get("text", "")
    return _act(
        request,
        conversation,
        lambda: note_add(conversation=conversation, author=request.user, text=text),
        _("Note added."),
    )


@require(Capability.WORK_DESK)
@require_POST
def hide(request: HttpRequest, conversation_id: int, message_id: int, hidden: bool) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    message = get_object_or_404(
        Message.objects.select_related("channel", "conversation"), pk=message_id, conversation=conversation
    )
    reason = request.POST.get("reason", "")
    return _act(
        request,
        conversation,
        lambda: message_hide(
            message=message, actor=request.user, reason=reason, hidden=hidden, request=request
        ),
        _("The comment is hidden on the network.")
        if hidden
        else _("The comment is visible again on the network."),
    )


@require(Capability.READ_DESK)
def contact_candidates(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Other contacts matching the words typed, each with a "same person" button."""
    conversation = _conversation_or_404(conversation_id)
    candidates = contacts_search(q=request.GET.get("q", ""), exclude=conversation.contact_id)
    return render(
        request, "inbox/_contact_candidates.html", {"conversation": conversation, "candidates": candidates}
    )


@require(Capability.WORK_DESK)
@require_POST
def contact_merge_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    other = get_object_or_404(Contact, pk=request.POST.get("contact") or 0)
    if conversation.contact is None:
        raise Http404
    return _act(
        request,
        conversation,
        lambda: contact_merge(contact=conversation.contact, other=other),
        _("The contacts are merged."),
    )


@require(Capability.WORK_DESK)
@require_POST
def identity_detach_view(request: HttpRequest, conversation_id: int, identity_id: int) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    identity = get_object_or_404(Identity, pk=identity_id, contact_id=conversation.contact_id)
    return _act(
        request,
        conversation,
        lambda: identity_detach(identity=identity),
        _("The identity is a contact of its own again."),
    )
