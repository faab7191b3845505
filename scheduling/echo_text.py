"""The words of an echo: the original text behind a short lead-in, varied for every echo.

X refuses a text it has already published on the account, and LinkedIn does too, so on networks
whose connector declares ``duplicate_text_rejected`` every echo must differ from the original and
from the other echoes. The lead-ins vary the wording on every network anyway: a reader who sees the
post again should see that it is a reminder.

Lead-ins are in the post's own language (Spanish or Valencian, guessed from its words), not in the
manager's interface language: they are part of what the citizens read.

When the lead-in makes the text too long for the network, the original is cut at a word boundary
with an ellipsis (the post's link stays: it is added apart from the text, or at the end of it, as
the network does). Where the lead-in cannot stay, a network that accepts repeated text gets the
original unchanged; one that refuses it gets no echo rather than one it would reject.

Quoting instead of repeating: X and Bluesky declare ``quote_posts``, but no connector publishes a
quote yet (``Connector.publish`` takes a text, a link and media only), so echoes vary their text
on those networks too. A quote option belongs in the connectors first.
"""

import re

from inbox.language import detect_language
from networks.base import LinkHandling
from networks.models import Channel
from networks.registry import CONNECTORS
from scheduling.composer import variant_check
from scheduling.media import ImageFacts

ELLIPSIS = "…"
# Enough lead-ins per language for the most echoes a rule allows (six), each one different.
LEAD_INS: dict[str, tuple[str, ...]] = {
    "es": (
        "Por si te lo perdiste: {text}",
        "Recordatorio: {text}",
        "Lo compartimos de nuevo: {text}",
        "Te lo recordamos: {text}",
        "Por si no lo viste: {text}",
        "Vuelve a leerlo: {text}",
        "Otra vez, por si acaso: {text}",
    ),
    "ca": (
        "Per si t'ho vas perdre: {text}",
        "Recordatori: {text}",
        "Ho tornem a compartir: {text}",
        "T'ho recordem: {text}",
        "Per si no ho vas veure: {text}",
        "Torna a llegir-ho: {text}",
        "Una altra vegada, per si de cas: {text}",
    ),
}
DEFAULT_LANGUAGE = "es"
_WORD_END = re.compile(r"\s+")
# Punctuation that would look odd right before the ellipsis ("empleo,…").
_TRAILING_PUNCTUATION = ",;:-–—([{«\"'"


def echo_texts_vary(
    *, channel: Channel, text: str, link: str, count: int, image: ImageFacts | None = None
) -> list[str]:
    """Up to ``count`` echo texts for ``text`` on ``channel``, each fitting the network's limit.

    On networks that refuse repeated text none equals the original or another echo (compared with
    whitespace collapsed, as the networks do); fewer than ``count`` come back when no more distinct
    texts fit. ``image``: the post's image, which changes what some networks count (the link goes
    into the text beside an image on Facebook and LinkedIn)."""
    lead_ins = LEAD_INS.get(detect_language(text), LEAD_INS[DEFAULT_LANGUAGE])
    refuses_repeats = CONNECTORS[channel.network].capabilities.duplicate_text_rejected
    seen = {_normalized(text)}
    texts: list[str] = []
    for lead_in in lead_ins:
        if len(texts) == count:
            break
        variant = _with_lead_in(lead_in, text, channel=channel, link=link, image=image)
        if variant is None and not refuses_repeats:
            variant = text
        if variant is None or (refuses_repeats and _normalized(variant) in seen):
            continue
        seen.add(_normalized(variant))
        texts.append(variant)
    return texts


def _with_lead_in(
    lead_in: str, text: str, *, channel: Channel, link: str, image: ImageFacts | None
) -> str | None:
    """The lead-in with the whole text, or with as much of it as fits (cut at a word boundary and
    ending in an ellipsis); None when not even one word fits."""
    body = _without_link(text, link, channel=channel)
    whole = lead_in.format(text=body)
    if _fits(whole, channel=channel, link=link, image=image):
        return whole
    cuts = [match.start() for match in _WORD_END.finditer(body)]
    shortened = [lead_in.format(text=_cut(body, at)) for at in cuts if body[:at].strip()]
    # Longer cuts are longer texts: find the longest that fits by bisection.
    low, high, best = 0, len(shortened) - 1, None
    while low <= high:
        middle = (low + high) // 2
        if _fits(shortened[middle], channel=channel, link=link, image=image):
            best, low = shortened[middle], middle + 1
        else:
            high = middle - 1
    return best


def _without_link(text: str, link: str, *, channel: Channel) -> str:
    """The text without the post's link where it ends with it and the network adds the link by
    itself (at the end of the text, or as a card), so a cut can never break it."""
    stripped = text.rstrip()
    adds_link = CONNECTORS[channel.network].capabilities.link_handling in (
        LinkHandling.IN_TEXT,
        LinkHandling.SEPARATE,
    )
    if link and adds_link and stripped.endswith(link):
        return stripped[: -len(link)].rstrip() or stripped
    return stripped


def _cut(body: str, at: int) -> str:
    return body[:at].rstrip().rstrip(_TRAILING_PUNCTUATION).rstrip() + ELLIPSIS


def _fits(text: str, *, channel: Channel, link: str, image: ImageFacts | None) -> bool:
    check = variant_check(channel=channel, text=text, link=link, image=image)
    return check.length <= check.limit


def _normalized(text: str) -> str:
    return " ".join(text.split())
