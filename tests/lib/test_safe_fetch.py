"""The SSRF guard: what safe_get refuses, where it really connects, and how it reads answers."""

import datetime
import gzip
import http.server
import socket
import ssl
import subprocess
import sys
import threading
import time

import pytest
import requests
from urllib3.util import connection as urllib3_connection
from urllib3.util.ssl_ import create_urllib3_context

from lib import safe_fetch
from lib.safe_fetch import FetchError, guarded_session, is_forbidden_address, safe_get
from tests.lib.conftest import LOOPBACK, send

UA = "SocialDesk-test/1.0 (+https://example.org/contacto)"
PUBLIC_IP = "93.184.216.34"


@pytest.fixture
def connections(monkeypatch):
    """Every (address, port) urllib3 opens a socket to, in order; connections still happen."""
    made: list[tuple[str, int]] = []
    real = urllib3_connection.create_connection

    def recording(address, *args, **kwargs):
        made.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3_connection, "create_connection", recording)
    return made


@pytest.fixture
def fake_dns(monkeypatch):
    """Answers for made-up names: ``answers[name]`` is a list of answers (each a list of addresses),
    used one lookup at a time, the last one repeating. Other names go to the real resolver."""
    answers: dict[str, list[list[str]]] = {}
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            lookups.append(host)
            queue = answers[host]
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
            return [info for address in answer for info in real(address, port, *args, **kwargs)]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, lookups


# --- Which addresses are forbidden ----------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.255.254",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.254",
        "0.0.0.0",  # noqa: S104 - an address under test, not a bind
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "198.18.0.1",
        "::1",
        "::",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::7f00:1",
        "2002:7f00:1::",
        "2001:db8::1",
    ],
)
def test_private_loopback_linklocal_cgnat_multicast_and_reserved_addresses_are_forbidden(address):
    assert is_forbidden_address(address)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", PUBLIC_IP, "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_unicast_addresses_are_allowed(address):
    assert not is_forbidden_address(address)


def test_allow_private_lets_only_the_listed_networks_through():
    assert not is_forbidden_address("127.0.0.1", ["127.0.0.0/8"])
    assert not is_forbidden_address("::ffff:127.0.0.1", ["127.0.0.0/8"])
    assert is_forbidden_address("10.0.0.1", ["127.0.0.0/8"])
    assert is_forbidden_address("169.254.169.254", ["127.0.0.0/8", "::1"])


def test_a_malformed_allow_private_entry_is_a_configuration_error():
    with pytest.raises(ValueError):
        safe_get("http://example.org/", user_agent=UA, allow_private=["not-a-network"])


# --- Refused before any connection ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/",
        "http://10.0.0.1/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[fe80::1]/",
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "http://0177.0.0.1/",  # octal
        "http://0x7f.0.0.1/",  # hexadecimal
        "http://127.1/",  # short form
        "http://0/",  # 0.0.0.0, which reaches the local host on Linux
        "http://[::]/",
        "https://10.1.2.3:8443/feed.xml",
    ],
)
def test_private_addresses_in_every_spelling_are_refused_before_connecting(url, connections):
    with pytest.raises(FetchError) as caught:
        safe_get(url, user_agent=UA)
    assert caught.value.kind == "blocked_address"
    assert connections == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.org/feed.xml",
        "gopher://127.0.0.1:6379/_INFO",
        "dict://127.0.0.1:11211/stats",
        "javascript:alert(1)",
        "data:text/plain,hello",
        "example.org/feed.xml",
    ],
)
def test_only_http_and_https_are_fetched(url, connections):
    with pytest.raises(FetchError) as caught:
        safe_get(url, user_agent=UA)
    assert caught.value.kind == "bad_scheme"
    assert connections == []


@pytest.mark.parametrize("url", ["http:///feed", "http://exa mple.org/", "http://example.org:99999/"])
def test_unreadable_addresses_are_bad_urls(url):
    with pytest.raises(FetchError) as caught:
        safe_get(url, user_agent=UA)
    assert caught.value.kind == "bad_url"


def test_a_name_with_one_private_answer_among_public_ones_is_refused(fake_dns, connections):
    answers, _ = fake_dns
    answers["mixed.test"] = [[PUBLIC_IP, "10.0.0.1"]]
    with pytest.raises(FetchError) as caught:
        safe_get("http://mixed.test/", user_agent=UA)
    assert caught.value.kind == "blocked_address"
    assert connections == []


# --- Redirects ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://10.0.0.1/admin",
        "http://[::1]:6379/",
        "http://2852039166/",  # 169.254.169.254 as one decimal number
        "https://192.168.0.1/",
    ],
)
def test_a_redirect_into_a_private_address_is_refused_before_connecting(
    loopback_server, connections, location
):
    loopback_server.routes["/feed"] = lambda h: send(h, 302, headers={"Location": location})
    with pytest.raises(FetchError) as caught:
        safe_get(loopback_server.url("/feed"), user_agent=UA, allow_private=["127.0.0.0/8"])
    assert caught.value.kind == "blocked_address"
    assert connections == [("127.0.0.1", loopback_server.port)]


@pytest.mark.parametrize("location", ["file:///etc/passwd", "gopher://127.0.0.1:6379/_FLUSHALL"])
def test_a_redirect_to_another_scheme_is_refused(loopback_server, location):
    loopback_server.routes["/feed"] = lambda h: send(h, 301, headers={"Location": location})
    with pytest.raises(FetchError) as caught:
        safe_get(loopback_server.url("/feed"), user_agent=UA, allow_private=LOOPBACK)
    assert caught.value.kind == "bad_scheme"


def test_redirects_are_followed_and_the_final_url_is_reported(loopback_server):
    loopback_server.routes["/old"] = lambda h: send(h, 301, headers={"Location": "/moved"})
    loopback_server.routes["/moved"] = lambda h: send(
        h, 307, headers={"Location": loopback_server.url("/feed.xml")}
    )
    loopback_server.routes["/feed.xml"] = lambda h: send(h, 200, b"<rss/>")
    result = safe_get(loopback_server.url("/old"), user_agent=UA, allow_private=LOOPBACK)
    assert (result.status, result.body, result.url) == (200, b"<rss/>", loopback_server.url("/feed.xml"))
    assert [seen.path for seen in loopback_server.seen] == ["/old", "/moved", "/feed.xml"]


def test_a_redirect_loop_stops_at_the_limit(loopback_server):
    loopback_server.routes["/loop"] = lambda h: send(h, 302, headers={"Location": "/loop"})
    with pytest.raises(FetchError) as caught:
        safe_get(loopback_server.url("/loop"), user_agent=UA, allow_private=LOOPBACK, max_redirects=3)
    assert caught.value.kind == "too_many_redirects"
    assert len(loopback_server.seen) == 4


def test_credentials_do_not_follow_a_redirect_to_another_origin(loopback_server, fake_dns):
    answers, _ = fake_dns
    answers["elsewhere.test"] = [["127.0.0.1"]]
    loopback_server.routes["/private"] = lambda h: send(
        h, 302, headers={"Location": loopback_server.url("/landing", host="elsewhere.test")}
    )
    loopback_server.routes["/landing"] = lambda h: send(h, 200, b"ok")
    safe_get(
        loopback_server.url("/private"),
        user_agent=UA,
        extra_headers={"Authorization": "Bearer secret", "Accept": "application/rss+xml"},
        allow_private=LOOPBACK,
    )
    first, second = loopback_server.seen
    assert first.headers["authorization"] == "Bearer secret"
    assert "authorization" not in second.headers
    assert second.headers["accept"] == "application/rss+xml"
    assert second.headers["host"] == f"elsewhere.test:{loopback_server.port}"


# --- DNS rebinding and the address actually connected ---------------------------------------------


def test_the_connection_goes_to_the_address_that_was_checked(loopback_server, fake_dns, connections):
    # The first answer is the one checked (allowed here); a rebinding second answer never counts.
    answers, lookups = fake_dns
    answers["rebind.test"] = [["127.0.0.1"], ["10.0.0.1"]]
    loopback_server.routes["/feed"] = lambda h: send(h, 200, b"checked")
    result = safe_get(
        f"http://rebind.test:{loopback_server.port}/feed", user_agent=UA, allow_private=LOOPBACK
    )
    assert result.body == b"checked"
    assert result.connected_ip == "127.0.0.1"
    assert lookups == ["rebind.test"]
    assert connections == [("127.0.0.1", loopback_server.port)]
    assert loopback_server.seen[0].headers["host"] == f"rebind.test:{loopback_server.port}"


def test_rebinding_from_a_public_to_a_loopback_answer_does_not_reach_loopback(
    loopback_server, fake_dns, monkeypatch
):
    answers, lookups = fake_dns
    answers["rebind.test"] = [[PUBLIC_IP], ["127.0.0.1"]]
    attempts: list[tuple[str, int]] = []

    def refuse(address, *args, **kwargs):
        attempts.append(address)
        raise ConnectionRefusedError("no route in tests")

    monkeypatch.setattr(urllib3_connection, "create_connection", refuse)
    with pytest.raises(FetchError) as caught:
        safe_get(f"http://rebind.test:{loopback_server.port}/", user_agent=UA)
    assert caught.value.kind == "connection"
    assert attempts == [(PUBLIC_IP, loopback_server.port)]
    assert lookups == ["rebind.test"]
    assert loopback_server.seen == []


def test_a_socket_that_lands_on_a_forbidden_peer_is_closed_before_sending(loopback_server, monkeypatch):
    # Whatever happens below us (a NAT, a hijacked route), the peer of the real socket is checked.
    real = urllib3_connection.create_connection

    def detour(address, *args, **kwargs):
        return real(("127.0.0.1", address[1]), *args, **kwargs)

    monkeypatch.setattr(urllib3_connection, "create_connection", detour)
    with pytest.raises(FetchError) as caught:
        safe_get(f"http://{PUBLIC_IP}:{loopback_server.port}/", user_agent=UA)
    assert caught.value.kind == "blocked_address"
    assert loopback_server.seen == []


# --- Answers ---------------------------------------------------------------------------------------


def test_conditional_get_sends_the_validators_and_a_304_has_no_body(loopback_server):
    loopback_server.routes["/feed"] = lambda h: send(h, 304, headers={"ETag": '"v1"'})
    result = safe_get(
        loopback_server.url("/feed"),
        user_agent=UA,
        etag='"v1"',
        last_modified="Wed, 21 Oct 2026 07:28:00 GMT",
        allow_private=LOOPBACK,
    )
    assert result.not_modified
    assert result.body == b""
    sent = loopback_server.seen[0].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert sent["user-agent"] == UA
    assert "gzip" in sent["accept-encoding"]


def test_without_validators_no_conditional_headers_are_sent(loopback_server):
    loopback_server.routes["/feed"] = lambda h: send(h, 200, b"x", {"ETag": '"v2"', "Last-Modified": "x"})
    result = safe_get(loopback_server.url("/feed"), user_agent=UA, allow_private=LOOPBACK)
    assert not result.not_modified
    assert result.headers["etag"] == '"v2"'  # case-insensitive
    assert "if-none-match" not in loopback_server.seen[0].headers
    assert "if-modified-since" not in loopback_server.seen[0].headers


@pytest.mark.parametrize("status", [404, 410, 429, 500, 503])
def test_http_error_statuses_are_returned_not_raised(loopback_server, status):
    loopback_server.routes["/feed"] = lambda h: send(h, status, b"no", {"Retry-After": "120"})
    result = safe_get(loopback_server.url("/feed"), user_agent=UA, allow_private=LOOPBACK)
    assert (result.status, result.body, result.headers["retry-after"]) == (status, b"no", "120")


def test_a_gzip_body_is_decoded(loopback_server):
    loopback_server.routes["/feed"] = lambda h: send(
        h, 200, gzip.compress(b"<rss>" + b"a" * 5000 + b"</rss>"), {"Content-Encoding": "gzip"}
    )
    result = safe_get(loopback_server.url("/feed"), user_agent=UA, allow_private=LOOPBACK)
    assert result.body == b"<rss>" + b"a" * 5000 + b"</rss>"


@pytest.mark.parametrize("declared", [True, False])
def test_a_body_over_the_cap_is_refused(loopback_server, declared):
    body = b"x" * 300_000

    def big(handler):
        if declared:
            send(handler, 200, body)
        else:  # no Content-Length, the body ends when the connection closes: capped while streaming
            handler.send_response(200)
            handler.send_header("Connection", "close")
            handler.end_headers()
            handler.wfile.write(body)
            handler.close_connection = True

    loopback_server.routes["/big"] = big
    with pytest.raises(FetchError) as caught:
        safe_get(loopback_server.url("/big"), user_agent=UA, allow_private=LOOPBACK, max_bytes=100_000)
    assert caught.value.kind == "too_large"


def test_a_body_exactly_at_the_cap_is_accepted(loopback_server):
    loopback_server.routes["/fits"] = lambda h: send(h, 200, b"y" * 100_000)
    result = safe_get(loopback_server.url("/fits"), user_agent=UA, allow_private=LOOPBACK, max_bytes=100_000)
    assert len(result.body) == 100_000


def test_a_decompression_bomb_stops_at_the_cap_on_decoded_bytes(loopback_server):
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)  # ~50 KB on the wire, 50 MB decoded
    loopback_server.routes["/bomb"] = lambda h: send(h, 200, bomb, {"Content-Encoding": "gzip"})
    with pytest.raises(FetchError) as caught:
        safe_get(loopback_server.url("/bomb"), user_agent=UA, allow_private=LOOPBACK, max_bytes=1_000_000)
    assert caught.value.kind == "too_large"


def test_a_server_that_never_answers_times_out(loopback_server):
    loopback_server.routes["/stall"] = lambda h: loopback_server.release.wait(10)
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        safe_get(loopback_server.url("/stall"), user_agent=UA, allow_private=LOOPBACK, timeout=0.3)
    assert caught.value.kind == "timeout"
    assert time.monotonic() - started < 2


def test_one_deadline_covers_a_body_that_drips_in(loopback_server):
    def drip(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for _ in range(1000):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            if loopback_server.release.wait(0.05):
                return

    loopback_server.routes["/drip"] = drip
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        safe_get(loopback_server.url("/drip"), user_agent=UA, allow_private=LOOPBACK, timeout=0.4)
    assert caught.value.kind == "timeout"
    assert time.monotonic() - started < 2


def test_a_closed_port_is_a_connection_error(loopback_server):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    with pytest.raises(FetchError) as caught:
        safe_get(f"http://127.0.0.1:{free_port}/", user_agent=UA, allow_private=LOOPBACK)
    assert caught.value.kind == "connection"


# --- TLS ---------------------------------------------------------------------------------------------


def _certificate(subject: str, key, issuer_name, issuer_key, *, authority: bool):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=authority, path_length=None), critical=True)
    )
    if not authority:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


@pytest.fixture
def https_server(tmp_path):
    """An HTTPS server on 127.0.0.1 with a certificate for "tls.test" from a test authority.

    Yields (port, authority PEM path, SNI names the server was sent)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    authority_key = ec.generate_private_key(ec.SECP256R1())
    authority = _certificate("SocialDesk test CA", authority_key, None, None, authority=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _certificate("tls.test", server_key, authority.subject, authority_key, authority=False)
    (tmp_path / "ca.pem").write_bytes(authority.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "cert.pem").write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server_names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    context.sni_callback = lambda _socket, name, _context: server_names.append(name)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            send(self, 200, f"secret for {self.headers['Host']}".encode())

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield httpd.server_port, tmp_path / "ca.pem", server_names
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def trust_test_authority(https_server, monkeypatch):
    _, authority, _ = https_server
    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
    context.load_verify_locations(cafile=str(authority))
    monkeypatch.setattr(safe_fetch, "_tls_context", lambda: context)


def test_an_unverifiable_certificate_is_a_tls_error(https_server, fake_dns):
    port, _, _ = https_server
    fake_dns[0]["tls.test"] = [["127.0.0.1"]]
    with pytest.raises(FetchError) as caught:
        safe_get(f"https://tls.test:{port}/", user_agent=UA, allow_private=LOOPBACK)
    assert caught.value.kind == "tls"


def test_https_to_the_pinned_address_still_sends_the_host_name_and_verifies_it(
    https_server, trust_test_authority, fake_dns, connections
):
    port, _, server_names = https_server
    fake_dns[0]["tls.test"] = [["127.0.0.1"], ["10.0.0.1"]]
    result = safe_get(f"https://tls.test:{port}/", user_agent=UA, allow_private=LOOPBACK)
    assert result.body == f"secret for tls.test:{port}".encode()
    assert connections == [("127.0.0.1", port)]
    assert server_names == ["tls.test"]  # SNI names the host, not the address connected to


def test_a_certificate_for_another_name_is_a_tls_error(https_server, trust_test_authority, fake_dns):
    port, _, _ = https_server
    fake_dns[0]["elsewhere.test"] = [["127.0.0.1"]]
    with pytest.raises(FetchError) as caught:
        safe_get(f"https://elsewhere.test:{port}/", user_agent=UA, allow_private=LOOPBACK)
    assert caught.value.kind == "tls"


def test_the_tls_context_verifies_and_is_built_once():
    context = safe_fetch._tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert safe_fetch._tls_context() is context


def test_safe_fetch_does_not_import_django():
    code = "import sys, lib.safe_fetch; print(sorted(m for m in sys.modules if m.startswith('django')))"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


# --- Guarded sessions, for SDKs that bring their own HTTP client --------------------------------------


def test_a_guarded_session_reaches_an_allowed_server(loopback_server):
    loopback_server.routes["/api"] = lambda h: send(h, 200, b'{"ok": true}')
    with guarded_session(LOOPBACK) as session:
        response = session.get(loopback_server.url("/api"), timeout=5)
    assert response.json() == {"ok": True}


def test_a_guarded_session_refuses_a_name_pointing_inside_without_connecting(
    loopback_server, fake_dns, connections
):
    answers, _lookups = fake_dns
    answers["instance.test"] = [[PUBLIC_IP, "127.0.0.1"]]
    with guarded_session() as session, pytest.raises(requests.ConnectionError) as caught:
        session.get(f"http://instance.test:{loopback_server.port}/api/v1/instance", timeout=5)
    assert "127.0.0.1, a private or reserved address" in str(caught.value)
    assert connections == []
    assert loopback_server.seen == []


def test_a_guarded_session_connects_to_the_address_it_checked(loopback_server, fake_dns, monkeypatch):
    # One lookup per connection: a second answer (rebinding) is never asked for, let alone used.
    answers, lookups = fake_dns
    answers["rebind.test"] = [[PUBLIC_IP], ["127.0.0.1"]]
    attempts: list[tuple[str, int]] = []

    def refuse(address, *args, **kwargs):
        attempts.append(address)
        raise ConnectionRefusedError("no route in tests")

    monkeypatch.setattr(urllib3_connection, "create_connection", refuse)
    with guarded_session() as session, pytest.raises(requests.ConnectionError):
        session.get(f"http://rebind.test:{loopback_server.port}/", timeout=5)
    assert attempts == [(PUBLIC_IP, loopback_server.port)]
    assert lookups == ["rebind.test"]
    assert loopback_server.seen == []


def test_a_guarded_session_closes_a_socket_that_lands_inside(loopback_server, monkeypatch):
    real = urllib3_connection.create_connection
    monkeypatch.setattr(
        urllib3_connection,
        "create_connection",
        lambda address, *a, **k: real(("127.0.0.1", address[1]), *a, **k),
    )
    with guarded_session() as session, pytest.raises(requests.ConnectionError) as caught:
        session.get(f"http://{PUBLIC_IP}:{loopback_server.port}/", timeout=5)
    assert "reached 127.0.0.1" in str(caught.value)
    assert loopback_server.seen == []


def test_a_guarded_session_ignores_proxies_from_the_environment(loopback_server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    loopback_server.routes["/api"] = lambda h: send(h, 200, b"{}")
    with guarded_session(LOOPBACK) as session:
        assert session.get(loopback_server.url("/api"), timeout=5).status_code == 200
