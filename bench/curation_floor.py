"""The floor under the curation pipeline's CPU: the same feeds through only the steps that no design
can skip with the project's libraries, each done the cheapest way there is.

- fetch: one plain ``http.client`` GET per feed from the benchmark's server, gzip as served;
- parse: fastfeedparser, as the bare figure runs it;
- sanitize: nh3 with its defaults, as the bare figure runs it;
- text: the tags of the start of each item's HTML replaced by spaces in C, entities decoded;
- match: one pass of the keyword automaton over the folded words (nothing counted or weighed);
- digest: one blake2b of each item's id;
- copy: one binary COPY of six columns into a temporary table.

Nothing else the issue asks for is done: no dedupe queries, dates, time zones, tracking pixels, link
resolving, per-source state, transactions. So the floor says how far the 2× target is from what is
possible here: a pipeline that does the rest as well cannot take less CPU than this.
"""

from __future__ import annotations

import hashlib
import html
import http.client
import re
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from itertools import product
from urllib.parse import urlsplit

import ahocorasick
import fastfeedparser
import nh3
import psycopg

from lib.text import spaced_words, word_forms, words

STEPS = ("fetch", "parse", "sanitize", "text", "match", "digest", "copy")
TEXT_HTML_CHARS = 2_500  # as much HTML as the pipeline reads for an item's text
_TAG = re.compile(r"<[^>]*>")
_GZIP_WINDOW = 16 + zlib.MAX_WBITS


@dataclass
class Floor:
    steps: dict[str, float]
    rows: int  # entries taken through every step

    @property
    def cpu_seconds(self) -> float:
        return sum(self.steps.values())

    @property
    def own_ratio(self) -> float:
        """The floor against its own parse + sanitize (run interleaved with the other steps, they take
        longer than in the bare figure, which runs each alone)."""
        bare = self.steps["parse"] + self.steps["sanitize"]
        return self.cpu_seconds / bare if bare else float("inf")

    def by_step(self) -> str:
        return " · ".join(f"{step} {self.steps[step]:.2f}" for step in STEPS) + " s"


def keyword_automaton(phrases: list[str]) -> ahocorasick.Automaton:
    """The desk's keywords as the pipeline's matcher looks for them: folded words, spaced, in every
    combination of their forms (plurals)."""
    automaton = ahocorasick.Automaton()
    for phrase in phrases:
        # At most three words expanded, as the pipeline's matcher does (it checks the rest in Python).
        for combination in product(*(word_forms(word) for word in words(phrase)[:3])):
            pattern = f" {' '.join(combination)} "
            automaton.add_word(pattern, len(automaton))
    automaton.make_automaton()
    return automaton


def floor_cpu(urls: list[str], automaton: ahocorasick.Automaton, connection_params: dict) -> Floor:
    """CPU seconds of each unavoidable step over the feeds at ``urls`` (served by the bench's server)."""
    clock: Counter[str] = Counter({step: 0.0 for step in STEPS})
    rows: list[tuple] = []
    for url in urls:
        started = time.process_time()
        body = _get(url)
        clock["fetch"] += time.process_time() - started
        started = time.process_time()
        parsed = fastfeedparser.parse(body, include_tags=False, include_media=False, include_enclosures=False)
        clock["parse"] += time.process_time() - started
        for entry in parsed.get("entries", []):
            rows.append(_entry_row(entry, automaton, clock))
    started = time.process_time()
    _copy(rows, connection_params)
    clock["copy"] += time.process_time() - started
    return Floor(dict(clock), len(rows))


def connection_params(connection) -> dict:
    """What a process of its own needs to open a connection to the database of Django's ``connection``."""
    return {
        name: value
        for name, value in connection.get_connection_params().items()
        if name in ("dbname", "user", "password", "host", "port")
    }


def _get(url: str) -> bytes:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port)
    try:
        connection.request("GET", parts.path, headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        body = response.read()
        if response.getheader("Content-Encoding") == "gzip":
            body = zlib.decompress(body, _GZIP_WINDOW)
        return body
    finally:
        connection.close()


def _entry_row(entry, automaton, clock: Counter[str]) -> tuple:
    content = entry.get("content") or []
    fragment = content[0]["value"] if content and content[0].get("value") else entry.get("description") or ""
    title = entry.get("title") or ""
    started = time.process_time()
    clean = nh3.clean(fragment)
    clock["sanitize"] += time.process_time() - started
    started = time.process_time()
    text = " ".join(html.unescape(_TAG.sub(" ", clean[:TEXT_HTML_CHARS])).split())
    clock["text"] += time.process_time() - started
    started = time.process_time()
    found = {number for _end, number in automaton.iter(spaced_words(f"{title}\n{text}"))}
    clock["match"] += time.process_time() - started
    started = time.process_time()
    guid = entry.get("id") or entry.get("link") or title
    guid_hash = hashlib.blake2b(guid.encode(), digest_size=16).hexdigest()
    clock["digest"] += time.process_time() - started
    return (guid, guid_hash, title, clean, text[:300], len(found))


def _copy(rows: list[tuple], connection_params: dict) -> None:
    with psycopg.connect(**connection_params) as database:
        database.execute(
            "CREATE TEMPORARY TABLE bench_floor (guid text, guid_hash text, title text, html text, "
            "excerpt text, found int)"
        )
        with database.cursor().copy("COPY bench_floor FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["text", "text", "text", "text", "text", "int4"])
            for row in rows:
                copy.write_row(row)
        database.rollback()
