"""The embedded broker: a message appears in the queue folder only once written whole, and a file
that cannot be read is skipped rather than stopping the worker."""

import json
import logging
import multiprocessing
import os
import time

import pytest
from kombu import Connection

from socialdesk import broker
from socialdesk.celery import app


@pytest.fixture
def folders(tmp_path):
    options = {
        "data_folder_in": str(tmp_path / "queue"),
        "data_folder_out": str(tmp_path / "queue"),
        "control_folder": str(tmp_path / "control"),
        "processed_folder": str(tmp_path / "processed"),
        "store_processed": False,
    }
    for option in ("data_folder_in", "control_folder", "processed_folder"):
        os.makedirs(options[option], exist_ok=True)
    return options


@pytest.fixture
def connection(folders):
    # kombu keeps the declared queues on the transport class: each test's folders start undeclared.
    broker.Transport.global_state.clear()
    with Connection("socialdesk-filesystem://", transport_options=folders) as conn:
        yield conn
    broker.Transport.global_state.clear()


def _take(queue) -> dict:
    message = queue.get(timeout=1)
    message.ack()
    return message.payload


def test_messages_go_through_in_order(connection):
    queue = connection.SimpleQueue("desk")
    for number in range(3):
        queue.put({"n": number})
    assert [_take(queue)["n"] for _ in range(3)] == [0, 1, 2]
    queue.close()


def test_a_message_gets_its_name_only_once_it_is_written_whole(connection, folders, monkeypatch):
    seen_at_rename = []
    rename = os.replace

    def watching(partial, final):
        with open(partial, "rb") as file:
            seen_at_rename.append((json.loads(file.read()), os.path.exists(final)))
        rename(partial, final)

    monkeypatch.setattr(broker.os, "replace", watching)
    queue = connection.SimpleQueue("desk")
    queue.put({"texto": "Hola"})

    [(written, final_existed)] = seen_at_rename
    assert not final_existed and written  # complete before the reader could see it
    assert not [name for name in os.listdir(folders["data_folder_out"]) if name.endswith(broker.PARTIAL_SUFFIX)]
    assert _take(queue) == {"texto": "Hola"}
    queue.close()


def test_an_empty_message_file_is_skipped_and_the_next_message_read(connection, folders, caplog):
    queue = connection.SimpleQueue("desk")
    # What kombu's own transport leaves for a reader that comes between creating and writing a file.
    open(os.path.join(folders["data_folder_in"], f"{0:020d}_empty.desk.msg"), "wb").close()
    queue.put({"n": 1})

    with caplog.at_level(logging.ERROR, logger="socialdesk.broker"):
        assert _take(queue) == {"n": 1}
    assert "unreadable message file" in caplog.text
    assert os.listdir(folders["data_folder_in"]) == []
    queue.close()


def test_a_file_left_half_written_by_a_dead_process_is_removed_when_a_channel_opens(folders, caplog):
    folder = folders["data_folder_in"]
    hour_ago = time.time() - broker.ABANDONED_AFTER_SECONDS - 1
    abandoned = os.path.join(folder, f"{1:020d}_dead.desk.msg{broker.PARTIAL_SUFFIX}")
    being_written = os.path.join(folder, f"{2:020d}_live.desk.msg{broker.PARTIAL_SUFFIX}")
    old_message = os.path.join(folder, f"{3:020d}_old.desk.msg")
    for path in (abandoned, being_written, old_message):
        with open(path, "w") as file:
            file.write("{")
    os.utime(abandoned, (hour_ago, hour_ago))
    os.utime(old_message, (hour_ago, hour_ago))

    with (
        caplog.at_level(logging.WARNING, logger="socialdesk.broker"),
        Connection(f"{broker.SCHEME}://", transport_options=folders) as conn,
    ):
        conn.default_channel  # noqa: B018 (opening the channel is what is tested)

    assert sorted(os.listdir(folder)) == sorted(map(os.path.basename, (being_written, old_message)))
    assert "Removed 1 message files left half-written" in caplog.text


def test_its_scheme_names_it_and_a_url_from_the_environment_still_picks_its_own():
    # The settings' embedded default is "socialdesk-filesystem://" (test_settings checks it).
    with app.connection_for_write(f"{broker.SCHEME}://") as conn:
        assert isinstance(conn.transport, broker.Transport)
    with app.connection_for_write("redis://127.0.0.1:1/0") as conn:
        assert conn.transport.driver_type == "redis"


def _send(folders: dict, count: int) -> None:
    with Connection(f"{broker.SCHEME}://", transport_options=folders) as conn:
        queue = conn.SimpleQueue("desk")
        for number in range(count):
            queue.put({"n": number, "text": "x" * 20_000})


def test_a_reader_racing_a_writer_in_another_process_gets_every_message_whole(connection, folders):
    # kombu's own transport, in the same race, read 14-34 empty files out of 3,000 here.
    count = 1_500
    queue = connection.SimpleQueue("desk")
    writer = multiprocessing.get_context("fork").Process(target=_send, args=(folders, count))
    writer.start()
    received = []
    try:
        while len(received) < count:
            received.append(_take_within(queue, seconds=10)["n"])
    finally:
        writer.join(timeout=30)
    assert received == list(range(count))


def _take_within(queue, *, seconds: float) -> dict:
    message = queue.get(block=True, timeout=seconds)
    message.ack()
    return message.payload
