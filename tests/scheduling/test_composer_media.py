"""The composer's image: checked with Pillow when chosen, described before publishing, refused
before publishing where a network would refuse it, shown to the desk only, and handed to the
connector with its description."""

import io
import os
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from PIL import Image

from curation.models import Topic
from networks.models import Channel, Network, SandboxPost
from scheduling.composer import image_problems, variant_check
from scheduling.dispatch import deliveries_claim_due, delivery_publish
from scheduling.media import (
    MAX_IMAGE_BYTES,
    UNUSED_IMAGE_AGE,
    image_name_from_token,
    image_store,
    image_token,
    post_image_facts,
    post_media,
)
from scheduling.models import AudienceSegment, Delivery, Post, PostStatus
from scheduling.tasks import delete_unused_images
from socialdesk.beat import BEAT_SCHEDULE

URL = reverse("publishing:compose")
IMAGE_URL = reverse("publishing:compose_image")
CHECK_URL = reverse("publishing:compose_check")
PUBLIC_URL = "https://desk.example.org"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SOCIALDESK_PUBLIC_URL = PUBLIC_URL
    return tmp_path


@pytest.fixture
def job_seekers(db) -> AudienceSegment:
    return AudienceSegment.objects.get(slug="job-seekers")


@pytest.fixture
def instagram(db) -> Channel:
    return Channel.objects.create(network=Network.INSTAGRAM, account_id="17841", display_name="Empleo IG")


def image_bytes(image_format: str = "JPEG", size: tuple[int, int] = (320, 240)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (11, 79, 138)).save(buffer, format=image_format)
    return buffer.getvalue()


def upload(name: str = "cartel.jpg", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes() if content is None else content, content_type="image/jpeg")


def stored_files(root) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def compose_data(channel: Channel, segment: AudienceSegment, **more) -> dict:
    return {
        "text": "Feria de empleo en Alzira",
        "channels": [channel.pk],
        "segment": segment.pk,
        "when": "now",
        **more,
    }


# --- Checking and storing the file ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "image_format", "extension"),
    [
        ("foto-lucia.jpg", "JPEG", "jpg"),
        ("foto-lucia.JPEG", "JPEG", "jpg"),
        ("foto-lucia.png", "PNG", "png"),
        ("foto-lucia.gif", "GIF", "gif"),
        ("foto-lucia.webp", "WEBP", "webp"),
    ],
)
def test_real_images_are_stored_under_a_random_name_in_their_format(
    media_root, name, image_format, extension
):
    stored = image_store(upload(name, image_bytes(image_format)))

    today = timezone.localdate()
    assert stored.startswith(f"posts/{today:%Y/%m}/") and stored.endswith(f".{extension}")
    assert "lucia" not in stored  # nothing of the original name is published
    with Image.open(media_root / stored) as image:
        assert image.format == image_format


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("cartel.jpg", b"Esto no es una imagen, es texto con otra extension.", "not_an_image"),
        ("cartel.jpg", image_bytes("PNG"), "mismatch"),
        ("cartel.txt", image_bytes("JPEG"), "extension"),
        ("cartel", image_bytes("JPEG"), "extension"),
        ("icono.jpg", image_bytes("JPEG", (10, 10)), "dimensions"),
        ("banda.png", image_bytes("PNG", (9000, 200)), "dimensions"),
        ("enorme.jpg", b"\xff\xd8" + b"\0" * MAX_IMAGE_BYTES, "too_large"),
        ("truncada.png", image_bytes("PNG")[:60], "not_an_image"),
    ],
)
def test_anything_else_is_refused_with_a_reason_and_nothing_is_stored(media_root, name, content, code):
    with pytest.raises(ValidationError) as refused:
        image_store(upload(name, content))
    assert refused.value.code == code
    assert str(refused.value.messages[0])
    assert stored_files(media_root) == []


def test_choosing_a_fake_image_in_the_composer_says_why_and_keeps_nothing(manager_client, media_root):
    response = manager_client.post(
        IMAGE_URL, {"text": "Hola", "image": upload("foto.jpg", b"no soy una foto")}
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.has_error("image", "not_an_image")
    assert escape(form.errors["image"][0]) in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert stored_files(media_root) == []


def test_choosing_a_jpeg_stores_it_and_the_live_check_drops_the_instagram_problem(
    manager_client, instagram, media_root
):
    with translation.override("es"):
        needs_image = escape(image_problems(channel=instagram, image=None)[0])
    data = {"text": "Curso de carretillero", "channels": [instagram.pk]}
    assert needs_image in manager_client.post(CHECK_URL, data).content.decode()

    response = manager_client.post(IMAGE_URL, {**data, "image": upload("curso.jpg")})

    page = response.content.decode()
    [stored] = stored_files(media_root)
    assert f'value="{response.context["form"]["image_token"].value()}"' in page
    assert image_name_from_token(response.context["form"]["image_token"].value()) == stored
    assert 'hx-swap-oob="innerHTML"' in page
    assert f'src="{reverse("publishing:image", args=[stored])}"' in page
    assert needs_image not in page


# --- Before publishing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("when", [{"when": "now"}, {"when": "at", "at": "2030-05-06T19:30"}])
def test_an_image_needs_its_description_to_publish_or_schedule(
    manager_client, sandbox_channel, job_seekers, when
):
    data = compose_data(sandbox_channel, job_seekers, image=upload(), **when)
    response = manager_client.post(URL, data)

    assert response.status_code == 400
    assert response.context["form"].has_error("image_alt_text")
    assert not Post.objects.exists() and not Delivery.objects.exists()


def test_a_draft_keeps_its_image_without_a_description(
    manager_client, sandbox_channel, job_seekers, media_root
):
    manager_client.post(URL, compose_data(sandbox_channel, job_seekers, image=upload(), when="draft"))

    post = Post.objects.get()
    assert (post.status, post.image_alt_text) == (PostStatus.DRAFT, "")
    assert stored_files(media_root) == [post.image.name]


def test_instagram_without_an_image_is_refused_before_anything_is_scheduled(
    manager_client, instagram, job_seekers
):
    response = manager_client.post(URL, compose_data(instagram, job_seekers))

    assert response.status_code == 400
    with translation.override("es"):
        assert (
            f"{instagram}: {image_problems(channel=instagram, image=None)[0]}"
            in response.context["form"].non_field_errors()
        )
    assert not Post.objects.exists() and not Delivery.objects.exists()


def test_instagram_takes_a_jpeg_only(manager_client, instagram, job_seekers):
    png = upload("cartel.png", image_bytes("PNG"))
    refused = manager_client.post(
        URL, compose_data(instagram, job_seekers, image=png, image_alt_text="Cartel")
    )
    assert refused.status_code == 400
    assert any("PNG" in error for error in refused.context["form"].non_field_errors())

    manager_client.post(URL, compose_data(instagram, job_seekers, image=upload(), image_alt_text="Cartel"))
    assert Delivery.objects.get().channel == instagram


def test_instagram_needs_the_public_address_set_before_publishing(
    manager_client, settings, instagram, job_seekers
):
    settings.SOCIALDESK_PUBLIC_URL = ""
    data = compose_data(instagram, job_seekers, image=upload(), image_alt_text="Cartel de la feria")

    response = manager_client.post(URL, data)

    assert response.status_code == 400
    assert any("SOCIALDESK_PUBLIC_URL" in error for error in response.context["form"].non_field_errors())
    assert "SOCIALDESK_PUBLIC_URL" in response.content.decode()  # in the live check too
    assert not Delivery.objects.exists()


def test_a_forged_image_token_is_refused(manager_client, sandbox_channel, job_seekers, media_root):
    (media_root / "otra.jpg").write_bytes(image_bytes())
    for token in (
        "posts/2026/01/otra.jpg",
        image_token("../otra.jpg"),
        image_token("posts/2026/01/nada.jpg"),
    ):
        response = manager_client.post(
            URL, compose_data(sandbox_channel, job_seekers, image_token=token, when="draft")
        )
        assert response.status_code == 400
        assert response.context["form"].has_error("image_token")
    assert not Post.objects.exists()


# --- Image, description, audience and topic travel with the post ------------------------------------------


@pytest.mark.parametrize(
    ("when", "status"),
    [
        ({"when": "now"}, PostStatus.SCHEDULED),
        ({"when": "at", "at": "2030-05-06T19:30"}, PostStatus.SCHEDULED),
        ({"when": "draft"}, PostStatus.DRAFT),
    ],
)
def test_publishing_scheduling_and_drafts_keep_image_description_audience_and_topic(
    manager_client, sandbox_channel, job_seekers, media_root, when, status
):
    topic = Topic.objects.get(slug="employment")
    data = compose_data(
        sandbox_channel,
        job_seekers,
        image=upload(),
        image_alt_text="Personas en una feria",
        topic=topic.pk,
        **when,
    )
    manager_client.post(URL, data)

    post = Post.objects.get()
    assert (post.status, post.image_alt_text, post.segment, post.topic) == (
        status,
        "Personas en una feria",
        job_seekers,
        topic,
    )
    assert stored_files(media_root) == [post.image.name]


def test_a_page_shown_again_keeps_the_chosen_image(manager_client, sandbox_channel, job_seekers, media_root):
    refused = manager_client.post(URL, compose_data(sandbox_channel, job_seekers, image=upload()))
    assert refused.status_code == 400
    token = refused.context["form"]["image_token"].value()
    [stored] = stored_files(media_root)
    assert image_name_from_token(token) == stored

    manager_client.post(
        URL, compose_data(sandbox_channel, job_seekers, image_token=token, image_alt_text="Un cartel")
    )

    assert Post.objects.get().image.name == stored
    assert stored_files(media_root) == [stored]


def test_a_draft_opens_with_its_image_and_can_lose_it(manager_client, sandbox_channel, job_seekers):
    manager_client.post(
        URL,
        compose_data(sandbox_channel, job_seekers, image=upload(), image_alt_text="Un cartel", when="draft"),
    )
    draft = Post.objects.get()

    page = manager_client.get(URL, {"post": draft.pk})
    assert (
        f'src="{reverse("publishing:image", args=[draft.image.name])}" alt="Un cartel"'
        in page.content.decode()
    )
    token = page.context["form"]["image_token"].value()

    manager_client.post(
        f"{URL}?post={draft.pk}",
        compose_data(
            sandbox_channel, job_seekers, image_token=token, image_remove="on", image_alt_text="Un cartel"
        ),
    )
    draft.refresh_from_db()
    assert (draft.status, draft.image.name, draft.image_alt_text) == (PostStatus.SCHEDULED, "", "")


# --- Shown to the desk only -------------------------------------------------------------------------------


@pytest.fixture
def stored_image(db, media_root) -> str:
    return image_store(upload())


def test_the_desk_sees_the_images(client, manager, supervisor, stored_image):
    for person in (manager, supervisor):
        client.force_login(person)
        response = client.get(reverse("publishing:image", args=[stored_image]))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert b"".join(response.streaming_content) == image_bytes()


def test_nobody_else_sees_the_images(client, outsider, administrator, stored_image):
    url = reverse("publishing:image", args=[stored_image])
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for person in (outsider, administrator):
        client.force_login(person)
        assert client.get(url).status_code == 403


@pytest.mark.parametrize(
    "name", ["posts/2026/01/nada.jpg", "secret.txt", "posts/../secret.jpg", "posts/2026/01/x.html"]
)
def test_only_stored_post_images_are_served(manager_client, media_root, name):
    (media_root / "secret.txt").write_text("no")
    (media_root / "secret.jpg").write_bytes(image_bytes())
    assert manager_client.get(reverse("publishing:image", args=[name])).status_code == 404


# --- To the network ---------------------------------------------------------------------------------------


def test_the_image_and_its_description_reach_the_network(
    manager_client, sandbox_channel, sandbox_account, job_seekers
):
    data = compose_data(
        sandbox_channel, job_seekers, image=upload(), image_alt_text="Personas en una feria de empleo"
    )
    manager_client.post(URL, data)
    delivery = Delivery.objects.get()

    assert deliveries_claim_due(now=timezone.now(), limit=10) == [delivery.pk]
    delivery_publish(delivery_id=delivery.pk)

    published = SandboxPost.objects.get(account=sandbox_account)
    assert published.media == [
        {
            "path": delivery.post.image.name,
            "mime_type": "image/jpeg",
            "alt_text": "Personas en una feria de empleo",
        }
    ]


def test_networks_that_fetch_the_image_get_its_public_address(settings, stored_image):
    post = Post(text="x", image=stored_image, image_alt_text="Cartel")
    [media] = post_media(post)
    assert media.public_url == f"{PUBLIC_URL}/media/{stored_image}"
    settings.SOCIALDESK_PUBLIC_URL = ""
    assert post_media(post)[0].public_url == ""
    assert post_media(Post(text="sin imagen")) == []


def test_a_delivery_checked_later_knows_its_posts_image(instagram, stored_image):
    post = Post(text="Cartel", image=stored_image, image_alt_text="Cartel")
    with_image = variant_check(channel=instagram, text="Cartel", link="", image=post_image_facts(post))
    assert with_image.problems == []
    assert post_image_facts(Post(text="sin imagen")) is None


def test_images_no_post_names_are_deleted_once_they_are_a_few_days_old(db, media_root):
    named = image_store(upload())
    Post.objects.create(text="Feria de empleo", image=named, image_alt_text="Cartel de la feria")
    left_behind = image_store(upload())  # a composer that was left
    just_uploaded = image_store(upload())  # a composer still open
    days_ago = (timezone.now() - UNUSED_IMAGE_AGE - timedelta(hours=1)).timestamp()
    for name in (named, left_behind):
        os.utime(media_root / name, (days_ago, days_ago))
    (media_root / "posts" / "notes.txt").write_text("not ours to delete")

    assert delete_unused_images() == 1

    assert (media_root / named).exists() and (media_root / just_uploaded).exists()
    assert not (media_root / left_behind).exists()
    assert (media_root / "posts" / "notes.txt").exists()
    assert BEAT_SCHEDULE["delete-unused-images"]["task"] == delete_unused_images.name
