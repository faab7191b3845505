"""Read-only queries for the scheduling pages."""

from django.core.paginator import Page, Paginator

from scheduling.models import Post, PostStatus

DRAFTS_PAGE_SIZE = 50


def drafts_page(*, page: int | str = 1, per_page: int = DRAFTS_PAGE_SIZE) -> Page:
    """Draft posts, newest first, with their topic, author and curated item. Two queries."""
    queryset = Post.objects.filter(status=PostStatus.DRAFT).select_related(
        "topic", "created_by", "source_item__source"
    )
    return Paginator(queryset, per_page).get_page(page)
