"""The topics page: topics with their weighted keywords and exclusions, tuned by the manager, and
the button that scores the new items again with them.

Reading needs READ_DESK (the supervisor sees why items rank as they do); every change needs WORK_DESK.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from curation.forms import KeywordChangeForm, KeywordForm, ScoreTryForm, TopicForm
from curation.models import Keyword, Topic
from curation.tasks import rescore_new_items
from curation.topics import (
    keyword_add,
    keyword_remove,
    keyword_update,
    last_rescore,
    score_try,
    topic_create,
    topic_update,
    topics_with_keywords,
)
from socialdesk.access import Capability, require


def _topics_page(
    request: HttpRequest,
    *,
    failed: Topic | None = None,
    form: KeywordForm | None = None,
    try_form: ScoreTryForm | None = None,
    tried=None,
    status=200,
):
    """The page; ``form`` is the keyword form of ``failed`` that did not validate, shown with its errors,
    and ``tried`` what "try a text" gave for ``try_form``."""
    topics = list(topics_with_keywords())
    for topic in topics:
        topic.keyword_form = (
            form if failed is not None and topic.pk == failed.pk else KeywordForm(auto_id=f"id_{topic.pk}_%s")
        )
    context = {
        "topics": topics,
        "try_form": try_form or ScoreTryForm(),
        "tried": tried,
        "last_rescore": last_rescore(),
    }
    return render(request, "curation/topics.html", context, status=status)


def _at(topic_id: int) -> str:
    return f"{reverse('curation:topics')}#topic-{topic_id}"


@require(Capability.READ_DESK)
def topics(request: HttpRequest) -> HttpResponse:
    return _topics_page(request)


@require(Capability.WORK_DESK)
def topic_new(request: HttpRequest) -> HttpResponse:
    return _topic_form_page(request, topic=None)


@require(Capability.WORK_DESK)
def topic_edit(request: HttpRequest, topic_id: int) -> HttpResponse:
    return _topic_form_page(request, topic=get_object_or_404(Topic, pk=topic_id))


def _topic_form_page(request: HttpRequest, *, topic: Topic | None) -> HttpResponse:
    initial = (
        {"name": topic.name, "hashtags": topic.hashtags, "is_active": topic.is_active} if topic else None
    )
    form = TopicForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if topic is None:
                topic = topic_create(**form.cleaned_data, actor=request.user, request=request)
                messages.success(
                    request, _("Topic “%(name)s” added: give it its words below.") % {"name": topic.name}
                )
            else:
                topic = topic_update(topic=topic, **form.cleaned_data, actor=request.user, request=request)
                messages.success(request, _("Topic “%(name)s” saved.") % {"name": topic.name})
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect(_at(topic.pk))
    return render(request, "curation/topic_form.html", {"form": form, "topic": topic})


@require(Capability.WORK_DESK)
@require_POST
def keyword_add_view(request: HttpRequest, topic_id: int) -> HttpResponse:
    topic = get_object_or_404(Topic, pk=topic_id)
    form = KeywordForm(request.POST, auto_id=f"id_{topic.pk}_%s")
    if form.is_valid():
        try:
            keyword = keyword_add(topic=topic, **form.cleaned_data, actor=request.user, request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("“%(phrase)s” added to “%(topic)s”.") % {"phrase": keyword.phrase, "topic": topic.name},
            )
            return redirect(_at(topic.pk))
    return _topics_page(request, failed=topic, form=form, status=400)


@require(Capability.WORK_DESK)
@require_POST
def keyword_change_view(request: HttpRequest, keyword_id: int) -> HttpResponse:
    keyword = get_object_or_404(Keyword.objects.select_related("topic"), pk=keyword_id)
    form = KeywordChangeForm(request.POST)
    if form.is_valid():
        keyword_update(keyword=keyword, **form.cleaned_data, actor=request.user, request=request)
        messages.success(request, _("“%(phrase)s” saved.") % {"phrase": keyword.phrase})
    else:
        messages.error(request, _("The weight goes from 1 to 10."))
    return redirect(_at(keyword.topic_id))


@require(Capability.WORK_DESK)
@require_POST
def keyword_remove_view(request: HttpRequest, keyword_id: int) -> HttpResponse:
    keyword = get_object_or_404(Keyword.objects.select_related("topic"), pk=keyword_id)
    keyword_remove(keyword=keyword, actor=request.user, request=request)
    messages.success(request, _("“%(phrase)s” removed.") % {"phrase": keyword.phrase})
    return redirect(_at(keyword.topic_id))


@require(Capability.WORK_DESK)
@require_POST
def items_rescore_view(request: HttpRequest) -> HttpResponse:
    user_id = request.user.pk
    transaction.on_commit(lambda: rescore_new_items.delay(user_id))
    messages.success(
        request,
        _(
            "The new items are being scored again with these topics: the reading queue shows it within a minute."
        ),
    )
    return redirect(reverse("curation:topics"))


@require(Capability.READ_DESK)
@require_POST
def score_try_view(request: HttpRequest) -> HttpResponse:
    """What the topics make of a pasted text; changes nothing. htmx gets the result alone."""
    form = ScoreTryForm(request.POST)
    result = score_try(**form.cleaned_data) if form.is_valid() else None
    if request.htmx:
        return render(request, "curation/_score_try.html", {"tried": result})
    return _topics_page(request, try_form=form, tried=result)
