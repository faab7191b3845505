"""Every change to posts."""

from django.db import transaction

from curation.models import Item
from curation.selectors import item_post_draft
from curation.services import item_mark_used
from scheduling.models import Post, PostStatus


@transaction.atomic
def post_draft_from_item(*, item: Item, by) -> Post:
    """Start a draft post with the item's title, link and its topic's hashtags, and mark the item used."""
    draft = item_post_draft(item=item)
    post = Post.objects.create(
        text=draft.text,
        link=draft.link,
        topic_id=item.topic_id,
        status=PostStatus.DRAFT,
        source_item=item,
        created_by=by if by is not None and by.is_authenticated else None,
    )
    item_mark_used(item=item, actor=by)
    return post
