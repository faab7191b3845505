"""The suite never touches the configured database, however a test asks for one."""

from django.db import connection


def test_a_test_asking_for_the_database_lazily_gets_the_test_database(request):
    # Run alone (pytest tests/socialdesk/test_test_databases.py), this is the session's only access to
    # the database: without the marker tests/conftest.py adds, it was the configured database itself.
    request.getfixturevalue("db")
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        assert "memorydb" in name or name == ":memory:", name
    else:
        assert name.startswith("test_"), name
