"""The words of echoes: varied on networks that refuse repeated text, always within each network's
limit as that network counts it, in the post's own language, with the link kept whole."""

import pytest

from lib.text_limits import grapheme_count, text_with_link, x_weighted_length
from networks.linkedin import LinkedInConnector
from networks.models import Channel, Network
from networks.registry import CONNECTORS
from scheduling.composer import variant_check
from scheduling.echo_text import ELLIPSIS, LEAD_INS, echo_texts_vary

LINK = "https://www.example.org/ofertas/2026/convocatoria-de-auxiliares-administrativos?utm_source=desk"
SPANISH = "Abrimos la convocatoria de auxiliares administrativos para las oficinas de empleo de la provincia"
VALENCIAN = "Hui obrim la convocatòria per a les persones que busquen feina amb el nostre servei"


def channel(network: str) -> Channel:
    return Channel(network=network, account_id="1", display_name="Empleo")


def normalized(text: str) -> str:
    return " ".join(text.split())


def long_text(length: int) -> str:
    words = (SPANISH + " ") * (length // len(SPANISH) + 2)
    return words[:length].rstrip()


def test_echoes_on_x_differ_from_the_original_and_from_each_other_and_fit_280():
    original = long_text(250)  # with the link (23) the original itself is 274 of 280

    texts = echo_texts_vary(channel=channel(Network.X), text=original, link=LINK, count=6)

    assert len(texts) == 6
    assert len({normalized(text) for text in texts} | {normalized(original)}) == 7
    for text in texts:
        published = text_with_link(text, LINK)
        assert x_weighted_length(published) <= 280
        assert published.endswith(f"{ELLIPSIS} {LINK}"), "cut at a word, the link kept whole"
        cut = text.split(": ", 1)[1].removesuffix(ELLIPSIS)
        assert original.startswith(cut)
        assert original[len(cut)] == " ", "the cut falls between two words"


def test_a_short_post_keeps_its_whole_text_behind_the_lead_in():
    texts = echo_texts_vary(channel=channel(Network.X), text=SPANISH, link=LINK, count=3)

    assert texts == [lead_in.format(text=SPANISH) for lead_in in LEAD_INS["es"][:3]]


def test_the_link_at_the_end_of_the_text_is_not_repeated_nor_cut():
    original = f"{long_text(240)} {LINK}"

    [text] = echo_texts_vary(channel=channel(Network.X), text=original, link=LINK, count=1)

    published = text_with_link(text, LINK)
    assert published.count(LINK) == 1
    assert x_weighted_length(published) <= 280


def test_echoes_on_bluesky_fit_300_graphemes():
    # Accents written as e + combining mark and emoji: more code points than graphemes.
    original = ("Ofe\u0301rtas de empleo 👩‍💻 en Vale\u0300ncia " * 12).strip()
    assert grapheme_count(original) < len(original)

    texts = echo_texts_vary(channel=channel(Network.BLUESKY), text=original, link=LINK, count=3)

    assert len(texts) == 3
    for text in texts:
        assert grapheme_count(text_with_link(text, LINK)) <= 300
        assert normalized(text) != normalized(original)


def test_a_valencian_post_gets_valencian_lead_ins():
    texts = echo_texts_vary(channel=channel(Network.X), text=VALENCIAN, link="", count=2)

    assert texts == [lead_in.format(text=VALENCIAN) for lead_in in LEAD_INS["ca"][:2]]


def test_linkedin_refuses_repeated_text_so_its_echoes_vary():
    assert LinkedInConnector.capabilities.duplicate_text_rejected is True
    original = long_text(3000)  # LinkedIn's limit: the lead-in only fits by cutting

    texts = echo_texts_vary(channel=channel(Network.LINKEDIN), text=original, link=LINK, count=2)

    assert len(texts) == 2
    assert len({normalized(text) for text in texts} | {normalized(original)}) == 3
    assert all(len(text) <= 3000 for text in texts)


def test_a_network_that_accepts_repeats_echoes_the_original_when_no_lead_in_fits():
    capabilities = CONNECTORS[Network.FACEBOOK].capabilities
    assert not capabilities.duplicate_text_rejected
    original = "x" * capabilities.max_length  # one word filling the whole limit

    assert (
        echo_texts_vary(channel=channel(Network.FACEBOOK), text=original, link="", count=2) == [original] * 2
    )


def test_a_network_that_refuses_repeats_gets_no_echo_it_would_refuse():
    original = "x" * 280  # one word of the whole limit: no lead-in fits, and the original is refused

    assert echo_texts_vary(channel=channel(Network.X), text=original, link="", count=2) == []


@pytest.mark.parametrize("network", sorted(CONNECTORS))
@pytest.mark.parametrize("length", [60, 270, 490, 2500])
def test_every_connector_gets_echoes_within_its_rules(network, length):
    capabilities = CONNECTORS[network].capabilities
    original = long_text(min(length, capabilities.max_length - 30))

    texts = echo_texts_vary(channel=channel(network), text=original, link=LINK, count=3)

    assert len(texts) == 3
    for text in texts:
        check = variant_check(channel=channel(network), text=text, link=LINK)
        assert check.length <= check.limit
    if capabilities.duplicate_text_rejected:
        assert len({normalized(text) for text in texts} | {normalized(original)}) == 4
