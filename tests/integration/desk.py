"""Real SocialDesk processes (Celery worker, Celery beat, gunicorn) started for a test.

Each test gets its own var directory (SQLite file, filesystem broker, beat schedule) and an
environment built from scratch, so tests run side by side under xdist without sharing anything and
nothing leaks in from the developer's shell. Every process starts in its own process group; the
whole group is killed at teardown, however the test ended.
"""

import os
import secrets
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.environment_reads import REPO

# Generous for a loaded CI machine; on a quiet one everything is up within a few seconds.
DEADLINE_SECONDS = 90.0
POLL_SECONDS = 0.1
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


@dataclass
class DeskProcess:
    name: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@dataclass
class Desk:
    """One SocialDesk installation in a temporary directory, run the way `make run` runs it."""

    var_dir: Path
    environment: dict[str, str]
    processes: list[DeskProcess] = field(default_factory=list)

    @property
    def database_path(self) -> Path:
        return self.var_dir / "socialdesk.sqlite3"

    def python(self, *arguments: str) -> None:
        """Run Python with the desk's environment to completion; the test fails if it fails."""
        result = subprocess.run(
            [sys.executable, *arguments],
            cwd=REPO,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=DEADLINE_SECONDS,
            check=False,
        )
        assert result.returncode == 0, f"python {' '.join(arguments)}:\n{result.stdout}{result.stderr}"

    def start(self, name: str, *arguments: str) -> DeskProcess:
        log_path = self.var_dir / f"{name}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                [sys.executable, "-m", *arguments],
                cwd=REPO,
                env=self.environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: prefork children are stopped with it
            )
        process = DeskProcess(name, popen, log_path)
        self.processes.append(process)
        return process

    def heartbeats(self) -> dict[str, tuple[str, int]]:
        """component -> (last_seen_at as stored, pid), read from the SQLite file the processes share."""
        with closing(sqlite3.connect(self.database_path, timeout=5)) as database:
            rows = database.execute(
                "SELECT component, last_seen_at, pid FROM socialdesk_heartbeat"
            ).fetchall()
        return {component: (last_seen_at, pid) for component, last_seen_at, pid in rows}

    def wait_until(self, condition: Callable[[], object], what: str) -> object:
        """Poll `condition` until it returns something truthy; fail with the logs on deadline or crash."""
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            result = condition()
            if result:
                return result
            crashed = [process for process in self.processes if process.popen.poll() is not None]
            if crashed or time.monotonic() > deadline:
                reason = (
                    f"{', '.join(p.name for p in crashed)} exited"
                    if crashed
                    else f"no success within {DEADLINE_SECONDS:.0f} s"
                )
                pytest.fail(f"waiting for {what}: {reason}\n{self.logs()}")
            time.sleep(POLL_SECONDS)

    def logs(self) -> str:
        return "\n".join(f"--- {process.name} log ---\n{process.log()[-6000:]}" for process in self.processes)

    def stop(self) -> None:
        # The test is over and its directory is thrown away: nothing to shut down gracefully, and
        # killing the whole group also takes the prefork pool children and anything they started.
        for process in self.processes:
            with suppress(ProcessLookupError):  # the whole group is gone already
                os.killpg(process.pid, signal.SIGKILL)
            process.popen.wait()


def procfile_command(name: str) -> list[str]:
    """The Procfile's command for `name`, for `python -m`: `.venv/bin/celery --app …` -> `celery --app …`."""
    line = next(line for line in (REPO / "Procfile").read_text().splitlines() if line.startswith(f"{name}:"))
    program, *arguments = shlex.split(line.partition(":")[2])
    return [Path(program).name, *arguments]


def quick_worker_start() -> list[str]:
    # Nobody else to synchronise with: skip the start-up rounds that wait for other workers; and a
    # name of its own, so parallel tests' workers never answer each other's control messages.
    return ["--without-mingle", "--without-gossip", "--hostname", f"integration-{secrets.token_hex(4)}@%h"]


def desk_environment(var_dir: Path, **overrides: str) -> dict[str, str]:
    """Production settings (DEBUG off) on the embedded defaults, with one-second heartbeats."""
    environment = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "socialdesk.settings",
            "SOCIALDESK_VAR_DIR": str(var_dir),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SOCIALDESK_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "desk.example.org",
            "SOCIALDESK_HEARTBEAT_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    environment.update(overrides)
    return environment
