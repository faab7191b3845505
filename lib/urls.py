"""Web addresses as the desk compares them. Imports no Django.

``canonical_url`` is the address a person would share: tracking parameters (``utm_*``, ``fbclid`` …)
and the fragment removed, the host in lower case, the remaining parameters in a stable order.
``url_key`` goes further for recognising the same page linked from different sources: it also
ignores http versus https, a leading ``www.`` and a trailing slash.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

WEB_SCHEMES = frozenset({"http", "https"})

# Parameters that only say who sent the reader, never which page it is.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "igsh",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "__hssc",
        "__hstc",
        "__hsfp",
        "hsctatracking",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "vero_conv",
        "wt.mc_id",
        "wt_mc",
        "xtor",
        "ncid",
        "cmpid",
        "s_cid",
        "soc_src",
        "soc_trk",
        "sr_share",
        "spm",
        "ito",
        "at_medium",
        "at_campaign",
        "__twitter_impression",
        "rb_clickid",
        "ref_src",
        "ref_url",
        "fb_action_ids",
        "fb_action_types",
        "fb_ref",
        "fb_source",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "matomo_", "piwik_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# An absolute http(s) address with a plain host name and nothing ``urljoin`` or ``urlsplit`` would
# change or refuse (no spaces or control characters, no user part, no brackets, no backslash):
# almost every link in a feed. Such a link resolves to itself, so the two calls are skipped.
_PLAIN_ABSOLUTE = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#][^\x00-\x20\x7f\\]*)?", re.ASCII
)
# An empty parameter, query or fragment ("a;?", "a?#", "a#"): urljoin drops its marker, so such a
# link does not resolve to itself character for character.
_EMPTY_PART = re.compile(r"[;?#](?:[?#]|$)")
# The same, already canonical: lower-case host, no port, a path, no query or fragment.
_PLAIN_CANONICAL = re.compile(r"https?://[a-z0-9.-]+/[^\x00-\x20\x7f\\?#]*", re.ASCII)


def is_tracking_parameter(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(TRACKING_PREFIXES)


def absolute_url(link: str, base: str) -> str:
    """``link`` resolved against ``base``; "" unless the result is an http(s) address."""
    link = (link or "").strip()
    if not link:
        return ""
    if _PLAIN_ABSOLUTE.fullmatch(link) and not _EMPTY_PART.search(link):
        return link
    try:
        resolved = urljoin(base, link) if base else link
        parts = urlsplit(resolved)
    except ValueError:
        return ""
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.netloc:
        return ""
    return resolved


def canonical_url(url: str) -> str:
    """The address without tracking parameters or fragment; "" for anything but http(s)."""
    if _PLAIN_CANONICAL.fullmatch(url):
        return url
    return _canonical_of_parts(url)


def _canonical_of_parts(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in WEB_SCHEMES or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    query = ""
    if parts.query:
        kept = [
            (name, value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
            if not is_tracking_parameter(name)
        ]
        query = urlencode(sorted(kept))
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


def url_key(url: str) -> str:
    """What two links must share to be the same page: the canonical address without the scheme,
    a leading ``www.`` or a trailing slash. "" when ``url`` is not a web address."""
    return key_of_canonical(canonical_url(url))


def key_of_canonical(canonical: str) -> str:
    """``url_key`` of an address already made canonical by ``canonical_url``."""
    if not canonical:
        return ""
    rest = canonical.split("://", 1)[1]
    if rest.startswith("www."):
        rest = rest[4:]
    path, _, query = rest.partition("?")
    path = path.rstrip("/")
    return f"{path}?{query}" if query else path


def host_of(url: str) -> str:
    """The lower-case host name of ``url`` ("" when there is none)."""
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""
