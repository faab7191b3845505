"""A post's image: checked when it is uploaded, stored under MEDIA_ROOT, named in the composer by a
signed token, served to the desk, and handed to the connectors as networks.base.Media."""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from networks.base import Media
from scheduling.models import Post

# What the desk accepts at all; Bluesky (1 MB) and X (5 MB) take less, which the composer checks per channel.
MAX_IMAGE_BYTES = 8 * 1024 * 1024
# Smaller looks blurred on every network; larger than any network shows (X's own maximum).
MIN_IMAGE_SIDE = 200
MAX_IMAGE_SIDE = 8192

# Pillow's format → the extension it is stored with and its MIME type. MPO is how Pillow names the
# JPEG files many phones and cameras write (a JPEG with extra pictures after the first).
IMAGE_FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("jpg", "image/jpeg"),
    "MPO": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "GIF": ("gif", "image/gif"),
    "WEBP": ("webp", "image/webp"),
}
EXTENSION_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
}
STORED_EXTENSIONS = {mime_type: extension for extension, mime_type in IMAGE_FORMATS.values()}
# For the file input's `accept`: the browser offers only these.
ACCEPTED_TYPES = ",".join(sorted(set(EXTENSION_TYPES.values())))
UPLOAD_FOLDER = "posts"
# Names the desk may be served: what image_store and Post.image's upload_to write, nothing else.
SERVABLE_NAME = re.compile(
    rf"{UPLOAD_FOLDER}/\d{{4}}/\d{{2}}/[\w-][\w.-]*\.(?:jpe?g|png|gif|webp)", re.IGNORECASE
)
# Namespaces the signature (a salt, not a secret: SECRET_KEY signs).
SIGNING_SALT = "scheduling.media.image"
# An image no post names (uploaded in a composer that was left, or replaced, or its post deleted)
# is deleted once it is this old: a draft left open over a long weekend still finds its image.
UNUSED_IMAGE_AGE = timedelta(days=4)


@dataclass(frozen=True)
class ImageFacts:
    """What the composer checks an image against each network's rules with."""

    mime_type: str
    size: int


def image_inspect(upload: UploadedFile) -> ImageFacts:
    """Open the upload with Pillow: it must really be a JPEG, PNG, GIF or WebP image, of the kind its
    name says, no larger than MAX_IMAGE_BYTES and of reasonable dimensions. ValidationError if not."""
    if upload.size > MAX_IMAGE_BYTES:
        raise ValidationError(
            _("The image is %(size)s; the limit is %(limit)s. Make it smaller and choose it again."),
            code="too_large",
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(MAX_IMAGE_BYTES)},
        )
    declared = _extension(upload.name)
    if declared not in EXTENSION_TYPES:
        raise ValidationError(_("Choose a JPEG, PNG, GIF or WebP image."), code="extension")
    image_format, width, height = _opened(upload)
    stored_extension, mime_type = IMAGE_FORMATS[image_format]
    if EXTENSION_TYPES[declared] != mime_type:
        raise ValidationError(
            _(
                "The file is called .%(extension)s but it is a %(format)s image: save it again in the right format."
            ),
            code="mismatch",
            params={"extension": declared, "format": stored_extension.upper()},
        )
    if min(width, height) < MIN_IMAGE_SIDE or max(width, height) > MAX_IMAGE_SIDE:
        raise ValidationError(
            _("The image is %(width)s × %(height)s pixels; each side must be between %(min)s and %(max)s."),
            code="dimensions",
            params={"width": width, "height": height, "min": MIN_IMAGE_SIDE, "max": MAX_IMAGE_SIDE},
        )
    return ImageFacts(mime_type=mime_type, size=upload.size)


def image_store(upload: UploadedFile) -> str:
    """Check the upload (image_inspect) and save it under a fresh name; returns the storage name."""
    extension = STORED_EXTENSIONS[image_inspect(upload).mime_type]
    folder = timezone.localdate().strftime(f"{UPLOAD_FOLDER}/%Y/%m")
    # A random name: nothing of the original file name (people's names, dates) is published.
    return default_storage.save(f"{folder}/{uuid.uuid4().hex}.{extension}", upload)


def images_unused_delete(*, now: datetime) -> int:
    """Delete the stored images no post names that are older than UNUSED_IMAGE_AGE; how many."""
    named = set(Post.objects.exclude(image="").values_list("image", flat=True))
    deleted = 0
    for name in _stored_images():
        if name in named or default_storage.get_modified_time(name) > now - UNUSED_IMAGE_AGE:
            continue
        default_storage.delete(name)
        deleted += 1
    return deleted


def _stored_images():
    """Every file under UPLOAD_FOLDER/<year>/<month>/ that the desk could have stored."""
    if not default_storage.exists(UPLOAD_FOLDER):
        return
    years, _files = default_storage.listdir(UPLOAD_FOLDER)
    for year in years:
        months, _files = default_storage.listdir(f"{UPLOAD_FOLDER}/{year}")
        for month in months:
            _folders, files = default_storage.listdir(f"{UPLOAD_FOLDER}/{year}/{month}")
            for file_name in files:
                name = f"{UPLOAD_FOLDER}/{year}/{month}/{file_name}"
                if image_servable(name):
                    yield name


def stored_image_facts(name: str) -> ImageFacts | None:
    """The facts of an image already stored (checked when it was uploaded); None if it is gone."""
    if not default_storage.exists(name):
        return None
    return ImageFacts(mime_type=image_mime_type(name), size=default_storage.size(name))


def post_image_facts(post: Post) -> ImageFacts | None:
    """The post's image for composer.variant_check (checks of a delivery after composing)."""
    return stored_image_facts(post.image.name) if post.image else None


def image_token(name: str) -> str:
    """What the composer's form carries instead of the file once it is uploaded: signed, so a form
    can only name images the desk stored."""
    return signing.dumps(name, salt=SIGNING_SALT)


def image_name_from_token(token: str) -> str:
    """The stored image a token names, or "" for no token, a forged one or a file no longer there."""
    if not token:
        return ""
    try:
        name = signing.loads(token, salt=SIGNING_SALT)
    except signing.BadSignature:
        return ""
    return name if isinstance(name, str) and image_servable(name) and default_storage.exists(name) else ""


def image_servable(name: str) -> bool:
    """Whether `name` is a post image the desk may be shown (never another file under MEDIA_ROOT)."""
    return bool(SERVABLE_NAME.fullmatch(name)) and ".." not in name


def image_mime_type(name: str) -> str:
    return EXTENSION_TYPES.get(_extension(name), "application/octet-stream")


def image_public_url(name: str) -> str:
    """Where a network that fetches the file itself (Instagram) finds it: the web server serves
    MEDIA_URL publicly under SOCIALDESK_PUBLIC_URL. "" when no public address is configured."""
    if not settings.SOCIALDESK_PUBLIC_URL:
        return ""
    return f"{settings.SOCIALDESK_PUBLIC_URL}{default_storage.url(name)}"


def post_media(post: Post) -> list[Media]:
    """The post's image with its alt text, or nothing. Networks that fetch the file themselves
    (Instagram) get its public address under SOCIALDESK_PUBLIC_URL."""
    if not post.image:
        return []
    return [
        Media(
            path=post.image.name,
            mime_type=image_mime_type(post.image.name),
            alt_text=post.image_alt_text,
            public_url=image_public_url(post.image.name),
        )
    ]


def _opened(upload: UploadedFile) -> tuple[str, int, int]:
    """Pillow's format name and the dimensions, after checking the file's structure."""
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            image_format, (width, height) = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        image_format = None
    finally:
        upload.seek(0)
    if image_format not in IMAGE_FORMATS:
        raise ValidationError(
            _("This file is not a JPEG, PNG, GIF or WebP image, or it is damaged."), code="not_an_image"
        )
    return image_format, width, height


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""
