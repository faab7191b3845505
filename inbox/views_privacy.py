"""A citizen's right to erasure, from the conversation page: a page saying what will happen, then
the erasure itself (inbox.privacy.contact_erase). Both need WORK_DESK: the supervisor reads only.
Requests that come by other channels (e-mail, paper) go through `manage.py erase_contact`.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inbox.models import Contact, Conversation
from inbox.privacy import ErasureRefused, contact_erase, contact_erasure_scope
from socialdesk.access import Capability, require


def _conversation_contact(conversation_id: int) -> tuple[Conversation, Contact]:
    conversation = get_object_or_404(Conversation.objects.select_related("contact"), pk=conversation_id)
    if conversation.contact is None:
        raise Http404
    return conversation, conversation.contact


@require(Capability.WORK_DESK)
def contact_erase_confirm(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation, contact = _conversation_contact(conversation_id)
    context = {"conversation": conversation, "contact": contact, "scope": contact_erasure_scope(contact)}
    return render(request, "inbox/privacy_erase_confirm.html", context)


@require(Capability.WORK_DESK)
@require_POST
def contact_erase_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation, contact = _conversation_contact(conversation_id)
    try:
        contact_erase(contact=contact, actor=request.user, request=request)
    except ErasureRefused as exc:
        messages.error(request, str(exc))
        return redirect("inbox:contact_erase_confirm", conversation_id=conversation.pk)
    messages.success(request, _("The citizen's personal data is erased."))
    return redirect("inbox:conversation", conversation_id=conversation.pk)
