"""GET a URL from the internet without letting it reach inside our own network (SSRF guard).

Every outbound fetch of SocialDesk (feeds, pages, listings, discovery) goes through ``safe_get``:

- only ``http`` and ``https``;
- the host name is resolved once, every address it resolves to is checked against loopback,
  private, link-local (169.254.169.254), CGNAT, multicast, reserved and unspecified ranges (and the
  IPv4 addresses hidden inside IPv6 forms), and the connection is made to that checked address
  while Host and TLS SNI/certificate still name the host: a DNS answer that changes between the
  check and the connection (rebinding) cannot move us;
- the peer address of the socket actually connected is checked again;
- redirects are followed by hand, each hop checked like the first, up to ``max_redirects``;
- one deadline covers connecting, waiting and reading the whole body of every hop;
- the body is streamed and refused past ``max_bytes`` of *decoded* bytes (a gzip bomb stops there);
- TLS certificates are verified; proxies from the environment are not used.

SDKs that bring their own HTTP client (Mastodon.py, towards an instance a person typed) get a
``guarded_session``: a requests session whose connections are made the same way (one lookup, every
answer checked, the socket opened to a checked address and its peer checked again), no proxies.

Django-free: callers pass ``allow_private`` (settings.SOCIALDESK_FETCH_ALLOW_PRIVATE) themselves.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from urllib.parse import urljoin

import requests
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    LocationValueError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util import connection as urllib3_connection
from urllib3.util.ssl_ import create_urllib3_context

from lib.messages import Message, Value, gettext_noop

ALLOWED_SCHEMES = frozenset({"http", "https"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Headers that belong to one origin and must not follow a redirect to another.
_ORIGIN_BOUND_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_CHUNK_BYTES = 64 * 1024
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR_PREFIX = ipaddress.IPv6Network("2002::/16")
_ACCEPT_ENCODING = urllib3.util.make_headers(accept_encoding=True)["accept-encoding"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class FetchResult:
    url: str  # final URL after redirects
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes  # b"" for 304
    connected_ip: str  # the address actually connected to (of the last hop)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(Exception):
    """A fetch that produced no HTTP response we can use.

    ``kind`` is one of KINDS (callers translate it for people); ``message`` says what happened, with
    the detail (address, limit) that makes it actionable, in any language (``lib.messages``);
    ``reason`` is that message in English, for logs.
    """

    KINDS = frozenset(
        {
            "blocked_address",
            "bad_scheme",
            "bad_url",
            "timeout",
            "too_large",
            "connection",
            "too_many_redirects",
            "tls",
        }
    )

    def __init__(self, kind: str, text: str, **values: Value):
        if kind not in self.KINDS:
            raise ValueError(f"unknown fetch error kind {kind!r}")
        self.kind = kind
        self.message = Message(text, values)
        self.reason = str(self.message)
        super().__init__(self.reason)


class _BlockedPeer(Exception):
    """Raised inside urllib3 when the socket turns out to be connected to a forbidden address."""

    def __init__(self, address: str):
        super().__init__(address)
        self.address = address


@lru_cache(maxsize=64)
def _parse_networks(allow_private: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in allow_private)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64 or 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR_PREFIX:
        return address.sixtofour
    return None


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return _is_public(embedded)
        if address.is_site_local:
            return False
    # is_global leaves out loopback, RFC 1918, fc00::/7, link-local, CGNAT, unspecified,
    # documentation and benchmarking ranges; multicast and the reserved blocks are added by hand.
    return address.is_global and not address.is_multicast and not address.is_reserved


def is_forbidden_address(address: str, allow_private: Sequence[str] = ()) -> bool:
    """True when ``address`` (an IP literal) is not a public unicast address and no network in
    ``allow_private`` lets it through."""
    ip = ipaddress.ip_address(address)
    if _is_public(ip):
        return False
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and (embedded := _embedded_ipv4(ip)) is not None:
        candidates.append(embedded)
    networks = _parse_networks(tuple(allow_private))
    return not any(candidate in network for candidate in candidates for network in networks)


def host_is_forbidden(host: str, allow_private: Sequence[str] = ()) -> bool:
    """True when ``host`` (a name or an IP literal) resolves to any address that is_forbidden_address
    refuses. For clients that cannot go through safe_get (an SDK with its own HTTP session): check the
    host a person typed before the SDK is pointed at it. A name that does not resolve is not
    forbidden here; the SDK's own request will fail on it."""
    try:
        answers = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return False
    return any(is_forbidden_address(answer[4][0].split("%")[0], allow_private) for answer in answers)


class _PinnedConnectionMixin:
    """Connects to an address checked beforehand instead of resolving the host name again.

    ``self.host`` still names the server, so the Host header, SNI and certificate check are right.
    """

    def __init__(self, *args, pinned_address: str, allow_private: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self._pinned_address = pinned_address
        self._allow_private = allow_private
        self.connected_ip = ""

    def _new_conn(self) -> socket.socket:
        sock = _connect_checked(self, self._pinned_address, self._allow_private)
        self.connected_ip = sock.getpeername()[0]
        return sock


def _connect_checked(
    connection: HTTPConnection, address: str, allow_private: tuple[str, ...]
) -> socket.socket:
    """A socket from ``connection`` to ``address`` (an IP), or _BlockedPeer when the address the
    socket really reached is forbidden (it is closed before anything is sent)."""
    try:
        sock = urllib3_connection.create_connection(
            (address, connection.port),
            connection.timeout,
            source_address=connection.source_address,
            socket_options=connection.socket_options,
        )
    except TimeoutError as exc:
        raise ConnectTimeoutError(connection, f"Connection to {connection.host} timed out.") from exc
    except OSError as exc:
        raise NewConnectionError(connection, f"Failed to establish a new connection: {exc}") from exc
    peer = sock.getpeername()[0]
    if is_forbidden_address(peer, allow_private):
        sock.close()
        raise _BlockedPeer(peer)
    return sock


class _PinnedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    pass


class BlockedAddressError(NewConnectionError):
    """A connection refused by the guard of ``guarded_session``: the name points, or the socket
    reached, inside our own network. urllib3 and requests report it as a connection failure."""


def refused_by_guard(exc: BaseException) -> bool:
    """Whether a failure reported by an HTTP client (requests, an SDK on top of it) comes from the
    guard of ``guarded_session``: it hides the BlockedAddressError among its causes (the exception
    chain, urllib3's ``reason``, the arguments it wraps)."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, BlockedAddressError):
            return True
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        pending.extend(item for item in linked if isinstance(item, BaseException))
    return False


class _GuardedConnectionMixin:
    """Connects only where the guard allows, for clients that bring their own HTTP session (SDKs).

    The name is resolved once, every answer checked (a name that points both outside and inside is
    refused), the socket opened to a checked address (so a DNS answer that changes afterwards,
    rebinding, is never used) and the address the socket reached checked again.
    """

    allow_private: tuple[str, ...] = ()

    def _new_conn(self) -> socket.socket:
        host = self._dns_host
        try:
            addresses = _resolve(host, self.port)
        except FetchError as exc:
            raise NewConnectionError(self, exc.reason) from exc
        refused = next((a for a in addresses if is_forbidden_address(a, self.allow_private)), None)
        if refused is not None:
            raise BlockedAddressError(self, f"{host} points to {refused}, a private or reserved address.")
        failure: NewConnectionError | None = None
        for address in addresses:
            try:
                return _connect_checked(self, address, self.allow_private)
            except _BlockedPeer as exc:
                message = f"The connection to {host} reached {exc.address}, a private address."
                raise BlockedAddressError(self, message) from exc
            except NewConnectionError as exc:
                failure = exc  # the next checked address of the same name may answer
        raise failure or NewConnectionError(self, f"{host} has no address to connect to.")


@lru_cache(maxsize=8)
def _guarded_pool_classes(allow_private: tuple[str, ...]) -> dict[str, type]:
    def guarded(pool_class: type, connection_class: type) -> type:
        connection = type(
            f"Guarded{connection_class.__name__}",
            (_GuardedConnectionMixin, connection_class),
            {"allow_private": allow_private},
        )
        return type(f"Guarded{pool_class.__name__}", (pool_class,), {"ConnectionCls": connection})

    return {
        "http": guarded(urllib3.HTTPConnectionPool, HTTPConnection),
        "https": guarded(urllib3.HTTPSConnectionPool, HTTPSConnection),
    }


class _GuardedAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, allow_private: tuple[str, ...]):
        self._allow_private = allow_private  # read by init_poolmanager, which __init__ calls
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _guarded_pool_classes(self._allow_private)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        raise requests.exceptions.InvalidProxyURL("Guarded sessions connect directly, never through a proxy.")


def guarded_session(allow_private: Sequence[str] = ()) -> requests.Session:
    """A requests session that only connects to public addresses (see ``_GuardedConnectionMixin``),
    for the SDKs whose server is an address a person typed (a Mastodon instance). Proxies from the
    environment are not used: the guard must see the server's own address."""
    allowed = tuple(allow_private)
    _parse_networks(allowed)  # a bad entry is a configuration error: fail before any request
    session = requests.Session()
    session.trust_env = False
    adapter = _GuardedAdapter(allowed)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _Deadline:
    def __init__(self, seconds: float):
        self._ends_at = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self._ends_at - time.monotonic()
        if left <= 0:
            raise FetchError("timeout", gettext_noop("The server took too long to answer."))
        return left


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str  # without IPv6 brackets
    port: int
    request_uri: str
    host_header: str

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port


def _parse_target(url: str) -> _Target:
    try:
        parsed = urllib3.util.parse_url(url.strip())
    except LocationValueError as exc:
        raise FetchError(
            "bad_url", gettext_noop("The address “%(url)s” is not a valid web address."), url=url
        ) from exc
    scheme = (parsed.scheme or "").lower()
    if scheme not in ALLOWED_SCHEMES:
        raise FetchError(
            "bad_scheme",
            gettext_noop("Only http:// and https:// addresses can be fetched, not “%(url)s”."),
            url=url,
        )
    if not parsed.host:
        raise FetchError("bad_url", gettext_noop("The address “%(url)s” names no server."), url=url)
    default_port = 443 if scheme == "https" else 80
    port = parsed.port or default_port
    host_header = parsed.host if port == default_port else f"{parsed.host}:{port}"
    return _Target(
        url=parsed.url,
        scheme=scheme,
        host=parsed.host.strip("[]"),
        port=port,
        request_uri=parsed.request_uri,
        host_header=host_header,
    )


def _resolve(host: str, port: int) -> list[str]:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FetchError(
            "connection", gettext_noop("The server name “%(host)s” could not be found."), host=host
        ) from exc
    except UnicodeError as exc:
        raise FetchError(
            "bad_url", gettext_noop("The server name “%(host)s” is not valid."), host=host
        ) from exc
    addresses = list(dict.fromkeys(answer[4][0] for answer in answers))
    if not addresses:
        raise FetchError("connection", gettext_noop("The server name “%(host)s” has no address."), host=host)
    return addresses


def _checked_addresses(target: _Target, allow_private: tuple[str, ...]) -> list[str]:
    """All addresses of the host, or FetchError if any of them is forbidden.

    Refusing the whole name (not just skipping the bad answer) keeps a name that points both
    outside and inside from being used to probe inside when the outside address is down.
    """
    addresses = _resolve(target.host, target.port)
    for address in addresses:
        if is_forbidden_address(address, allow_private):
            if address == target.host:
                raise FetchError(
                    "blocked_address",
                    gettext_noop("%(address)s is a private or reserved address."),
                    address=address,
                )
            raise FetchError(
                "blocked_address",
                gettext_noop("%(host)s points to %(address)s, a private or reserved address."),
                host=target.host,
                address=address,
            )
    return addresses


@cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every fetch: building one loads the system's CA bundle, tens
    of milliseconds of CPU that would otherwise be spent on every HTTPS request. urllib3 checks the
    host name against the certificate itself (``check_hostname`` is off in its contexts)."""
    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
    context.load_default_certs()
    return context


def _open_pool(target: _Target, address: str, allow_private: tuple[str, ...], timeout: urllib3.Timeout):
    common = {
        "host": target.host,
        "port": target.port,
        "timeout": timeout,
        "maxsize": 1,
        "retries": False,
        "pinned_address": address,
        "allow_private": allow_private,
    }
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(cert_reqs="CERT_REQUIRED", ssl_context=_tls_context(), **common)
        pool.ConnectionCls = _PinnedHTTPSConnection
    else:
        pool = urllib3.HTTPConnectionPool(**common)
        pool.ConnectionCls = _PinnedHTTPConnection
    return pool


def _read_body(response, deadline: _Deadline, max_bytes: int) -> bytes:
    length = response.headers.get("content-length", "")
    encoded = response.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity")
    if not encoded and length.isdigit() and int(length) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    received = 0
    while True:
        _set_read_timeout(response, deadline.remaining())
        # read1 returns what one receive brings, so the deadline is checked between receives; asking
        # for at most one byte past the limit decodes at most that much, so a compressed bomb is
        # never inflated beyond the cap.
        chunk = response.read1(min(_CHUNK_BYTES, max_bytes - received + 1), decode_content=True)
        if not chunk:
            return b"".join(chunks)
        received += len(chunk)
        if received > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)


def _too_large(max_bytes: int) -> FetchError:
    return FetchError(
        "too_large",
        gettext_noop("The response is larger than the limit of %(limit)s bytes."),
        limit=max_bytes,
    )


def _set_read_timeout(response, seconds: float) -> None:
    """Shrink the socket timeout to what is left of the deadline, so a server that drips one byte
    at a time cannot keep us past it."""
    connection = response.connection
    if connection is not None and connection.sock is not None:
        connection.sock.settimeout(seconds)


def _request_once(
    target: _Target,
    headers: dict[str, str],
    allow_private: tuple[str, ...],
    deadline: _Deadline,
    max_bytes: int,
) -> FetchResult:
    addresses = _checked_addresses(target, allow_private)
    for address in addresses[:-1]:
        try:
            return _request_address(target, address, headers, allow_private, deadline, max_bytes)
        except NewConnectionError:
            continue  # the next checked address of the same name may answer
    return _request_address(target, addresses[-1], headers, allow_private, deadline, max_bytes)


def _request_address(
    target: _Target,
    address: str,
    headers: dict[str, str],
    allow_private: tuple[str, ...],
    deadline: _Deadline,
    max_bytes: int,
) -> FetchResult:
    remaining = deadline.remaining()
    pool = _open_pool(target, address, allow_private, urllib3.Timeout(connect=remaining, read=remaining))
    try:
        response = pool.urlopen(
            "GET",
            target.request_uri,
            headers={**headers, "Host": target.host_header},
            redirect=False,
            retries=False,
            preload_content=False,
            decode_content=True,
            assert_same_host=False,
        )
        try:
            return _result(target, response, deadline, max_bytes)
        finally:
            response.close()
    finally:
        pool.close()


def _result(target: _Target, response, deadline: _Deadline, max_bytes: int) -> FetchResult:
    connected_ip = response.connection.connected_ip
    if response.status in REDIRECT_STATUSES or response.status == 304:
        body = b""
    else:
        body = _read_body(response, deadline, max_bytes)
    return FetchResult(
        url=target.url,
        status=response.status,
        headers=urllib3.HTTPHeaderDict(response.headers),
        body=body,
        connected_ip=connected_ip,
    )


def _translate(exc: Exception, target: _Target) -> FetchError:
    if isinstance(exc, _BlockedPeer):
        return FetchError(
            "blocked_address",
            gettext_noop("The connection to %(host)s reached %(address)s, a private or reserved address."),
            host=target.host,
            address=exc.address,
        )
    host = target.host
    if isinstance(exc, NewConnectionError):
        return FetchError("connection", gettext_noop("Could not connect to %(host)s."), host=host)
    if isinstance(exc, (ReadTimeoutError, ConnectTimeoutError, TimeoutError)):
        return FetchError("timeout", gettext_noop("%(host)s took too long to answer."), host=host)
    if isinstance(exc, SSLError):
        return FetchError(
            "tls",
            gettext_noop("The secure connection to %(host)s could not be verified: %(error)s."),
            host=host,
            error=str(exc),
        )
    if isinstance(exc, DecodeError):
        return FetchError(
            "connection", gettext_noop("%(host)s sent a response that could not be decompressed."), host=host
        )
    if isinstance(exc, (ProtocolError, HTTPError, OSError)):
        return FetchError(
            "connection",
            gettext_noop("The connection to %(host)s failed: %(error)s."),
            host=host,
            error=str(exc),
        )
    raise exc


def _follow_headers(headers: dict[str, str], previous: _Target, following: _Target) -> dict[str, str]:
    if previous.origin == following.origin:
        return headers
    return {name: value for name, value in headers.items() if name.lower() not in _ORIGIN_BOUND_HEADERS}


def _initial_headers(
    user_agent: str, etag: str | None, last_modified: str | None, extra: Iterable[tuple[str, str]]
) -> dict[str, str]:
    headers = {"User-Agent": user_agent, "Accept-Encoding": _ACCEPT_ENCODING}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    headers.update(extra)
    return headers


def safe_get(
    url: str,
    *,
    user_agent: str,
    etag: str | None = None,
    last_modified: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    timeout: float = 15.0,
    max_bytes: int = 10 * 1024 * 1024,
    max_redirects: int = 5,
    allow_private: Sequence[str] = (),
) -> FetchResult:
    """GET ``url`` safely (see the module docstring). HTTP error statuses are returned, not raised;
    FetchError means there is no usable response."""
    allowed = tuple(allow_private)
    _parse_networks(allowed)  # a bad entry is a configuration error: fail before any request
    deadline = _Deadline(timeout)
    headers = _initial_headers(user_agent, etag, last_modified, (extra_headers or {}).items())
    target = _parse_target(url)
    for _hop in range(max_redirects + 1):
        try:
            result = _request_once(target, headers, allowed, deadline, max_bytes)
        except FetchError:
            raise
        except Exception as exc:
            raise _translate(exc, target) from exc
        location = result.headers.get("location")
        if result.status not in REDIRECT_STATUSES or not location:
            return result
        following = _parse_target(urljoin(target.url, location))
        headers = _follow_headers(headers, target, following)
        target = following
    raise FetchError(
        "too_many_redirects",
        gettext_noop("%(url)s redirected more than %(limit)s times."),
        url=url,
        limit=max_redirects,
    )
