"""A post's image as the connectors take it (networks.base.Media)."""

from django.conf import settings

from networks.base import Media
from scheduling.models import Post


def post_media(post: Post) -> list[Media]:
    """The post's image with its alt text, or nothing. Networks that fetch the file themselves
    (Instagram) get its public address under SOCIALDESK_PUBLIC_URL."""
    if not post.image:
        return []
    public_url = f"{settings.SOCIALDESK_PUBLIC_URL}{post.image.url}" if settings.SOCIALDESK_PUBLIC_URL else ""
    return [
        Media(
            path=post.image.name,
            mime_type=_mime_type(post.image.name),
            alt_text=post.image_alt_text,
            public_url=public_url,
        )
    ]


def _mime_type(name: str) -> str:
    extension = name.rsplit(".", 1)[-1].lower()
    return {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}.get(
        extension, "application/octet-stream"
    )
