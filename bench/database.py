"""The benchmarks' own PostgreSQL database: dropped, created and migrated on the server that
DATABASE_URL points at, so a run never touches the desk's data."""

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

from bench import BenchUnavailable


def bench_database_use(name: str, *, benchmark: str) -> None:
    """Switch the default connection to a fresh, migrated database `name` (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        raise BenchUnavailable(
            f"the {benchmark} benchmark needs PostgreSQL: set DATABASE_URL=postgres://USER@HOST:5432/DB "
            f"(it creates and uses its own database {name!r} on that server)"
        )
    parameters = connection.get_connection_params()
    parameters["dbname"] = "postgres"
    with psycopg.connect(**parameters, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    connections.close_all()
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name
    call_command("migrate", verbosity=0, interactive=False)
