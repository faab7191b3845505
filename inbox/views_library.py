"""The composer's libraries and asking a colleague: search-while-typing fragments, the answers
library's management page, and the questions forwarded to department contacts.

Reading needs READ_DESK (the supervisor sees the library and who is being asked); every change,
and the forms that make one, need WORK_DESK.
"""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from inbox.answers import (
    answer_create,
    answer_insert_text,
    answer_set_active,
    answer_update,
    answers_for_management,
    answers_search,
    curated_link_text,
    curated_links_search,
)
from inbox.colleagues import (
    QUESTION_MAX_LENGTH,
    colleague_answer_paste,
    colleague_ask,
    colleague_question_default,
    colleague_request_cancel,
)
from inbox.models import Answer, ColleagueRequest, Conversation, DepartmentContact
from inbox.selectors import conversation_get
from inbox.services import InboxRefused
from socialdesk.access import Capability, require


class AnswerForm(forms.ModelForm):
    link = forms.URLField(
        label=Answer._meta.get_field("link").verbose_name,
        required=False,
        max_length=2000,
        assume_scheme="https",
    )

    class Meta:
        model = Answer
        fields = ["question", "keywords", "text", "link", "language"]
        widgets = {"text": forms.Textarea(attrs={"rows": 5, "dir": "auto"})}
        help_texts = {
            "keywords": gettext_lazy("Other words people use for it, separated by spaces or commas."),
            "language": gettext_lazy("Leave unknown for an answer that suits any conversation."),
        }


class ColleagueAskForm(forms.Form):
    contact = forms.ModelChoiceField(
        label=gettext_lazy("Colleague or unit"),
        queryset=DepartmentContact.objects.filter(is_active=True),
        empty_label=gettext_lazy("Choose…"),
    )
    question = forms.CharField(
        label=gettext_lazy("Question"),
        max_length=QUESTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5, "dir": "auto"}),
        help_text=gettext_lazy(
            "Goes by e-mail with the citizen's last message and first name only, never their contact details."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="ask", **kwargs)
        self.fields["contact"].label_from_instance = _contact_label


def _contact_label(contact: DepartmentContact) -> str:
    return f"{contact.name} — {contact.topics}" if contact.topics else contact.name


def _conversation_or_404(conversation_id: int) -> Conversation:
    try:
        return conversation_get(conversation_id=conversation_id)
    except Conversation.DoesNotExist as exc:
        raise Http404 from exc


def _back_to(conversation_id: int) -> HttpResponse:
    return redirect("inbox:conversation", conversation_id=conversation_id)


# --- Composer: search while typing -------------------------------------------------------------


@require(Capability.READ_DESK)
def answers_search_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Library answers matching the words typed, the conversation's language first."""
    conversation = _conversation_or_404(conversation_id)
    answers = answers_search(q=request.GET.get("q", ""), language=conversation.language)
    results = [(answer, answer_insert_text(answer)) for answer in answers]
    return render(request, "inbox/_answers.html", {"results": results, "q": request.GET.get("q", "")})


@require(Capability.READ_DESK)
def curated_links_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Curated items whose title matches, each ready to insert as "title: link"."""
    _conversation_or_404(conversation_id)
    items = curated_links_search(q=request.GET.get("q", ""))
    results = [(item, curated_link_text(item)) for item in items]
    return render(request, "inbox/_curated_links.html", {"results": results, "q": request.GET.get("q", "")})


# --- The answers library ------------------------------------------------------------------------


@require(Capability.READ_DESK)
def answers_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    return render(request, "inbox/answers.html", {"answers": answers_for_management(q=q), "q": q})


@require(Capability.WORK_DESK)
def answer_new(request: HttpRequest) -> HttpResponse:
    form = AnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        answer_create(actor=request.user, **form.cleaned_data)
        messages.success(request, _("Answer added to the library."))
        return redirect("inbox:answers")
    return render(
        request, "inbox/answers_form.html", {"form": form, "answer": None}, status=400 if form.errors else 200
    )


@require(Capability.WORK_DESK)
def answer_edit(request: HttpRequest, answer_id: int) -> HttpResponse:
    answer = get_object_or_404(Answer, pk=answer_id)
    form = AnswerForm(request.POST or None, instance=answer)
    if request.method == "POST" and form.is_valid():
        answer_update(answer=answer, actor=request.user, **form.cleaned_data)
        messages.success(request, _("Answer saved."))
        return redirect("inbox:answers")
    return render(
        request,
        "inbox/answers_form.html",
        {"form": form, "answer": answer},
        status=400 if form.errors else 200,
    )


@require(Capability.WORK_DESK)
@require_POST
def answer_active(request: HttpRequest, answer_id: int, active: bool) -> HttpResponse:
    answer = get_object_or_404(Answer, pk=answer_id)
    answer_set_active(answer=answer, actor=request.user, active=active)
    messages.success(request, _("The answer is in use again.") if active else _("The answer is out of use."))
    return redirect("inbox:answers")


# --- Asking a colleague -------------------------------------------------------------------------


def _ask_page(request: HttpRequest, conversation: Conversation, form: ColleagueAskForm) -> HttpResponse:
    """The ask form: a fragment for the conversation page's htmx request, else a page of its own."""
    context = {"conversation": conversation, "ask_form": form}
    if request.htmx:
        return render(request, "inbox/_colleague_ask.html", context)
    return render(request, "inbox/_colleague_ask_page.html", context, status=400 if form.errors else 200)


@require(Capability.WORK_DESK)
def colleague_ask_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    if request.method != "POST":
        form = ColleagueAskForm(initial={"question": colleague_question_default(conversation)})
        return _ask_page(request, conversation, form)
    form = ColleagueAskForm(request.POST)
    if form.is_valid():
        try:
            colleague_ask(
                conversation=conversation,
                contact=form.cleaned_data["contact"],
                question=form.cleaned_data["question"],
                actor=request.user,
                request=request,
            )
        except InboxRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The question is on its way to your colleague."))
            return _back_to(conversation.pk)
    return _ask_page(request, conversation, form)


def _colleague_request_or_404(conversation_id: int, request_id: int) -> ColleagueRequest:
    return get_object_or_404(
        ColleagueRequest.objects.select_related("contact"), pk=request_id, conversation_id=conversation_id
    )


@require(Capability.WORK_DESK)
@require_POST
def colleague_cancel_view(request: HttpRequest, conversation_id: int, request_id: int) -> HttpResponse:
    colleague_request = _colleague_request_or_404(conversation_id, request_id)
    try:
        colleague_request_cancel(colleague_request=colleague_request)
    except InboxRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("No longer waiting for the colleague."))
    return _back_to(conversation_id)


@require(Capability.WORK_DESK)
@require_POST
def colleague_paste_view(request: HttpRequest, conversation_id: int, request_id: int) -> HttpResponse:
    colleague_request = _colleague_request_or_404(conversation_id, request_id)
    try:
        colleague_answer_paste(
            colleague_request=colleague_request, text=request.POST.get("text", ""), actor=request.user
        )
    except InboxRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The colleague's answer is in the notes."))
    return _back_to(conversation_id)
