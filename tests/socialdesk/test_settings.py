"""Settings come from the environment and refuse values they cannot read (socialdesk/env.py)."""

import runpy
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from socialdesk.env import env_bool, env_int, env_list, env_str
from tests.environment_reads import REPO, variables_read

SETTINGS_FILE = REPO / "socialdesk" / "settings.py"


def production_environment(var_dir) -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SOCIALDESK_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "desk.example.org",
        "SOCIALDESK_VAR_DIR": str(var_dir),
    }


@pytest.fixture
def load_settings(monkeypatch, tmp_path):
    """Run socialdesk/settings.py afresh with exactly the given variables (the suite's own are cleared)."""

    def load(**variables: str) -> dict:
        for name in variables_read():
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(f"{name}_FILE", raising=False)
        for name, value in {"SOCIALDESK_VAR_DIR": str(tmp_path / "var"), **variables}.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return load


# --- the helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("1", True),
        ("YES", True),
        (" on ", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("", False),
    ],
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("SOCIALDESK_FLAG", raw)
    assert env_bool("SOCIALDESK_FLAG", not expected) is expected


@pytest.mark.parametrize("raw", ["maybe", "2", "treu"])
def test_env_bool_refuses_anything_else(monkeypatch, raw):
    monkeypatch.setenv("SOCIALDESK_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="SOCIALDESK_FLAG"):
        env_bool("SOCIALDESK_FLAG", False)


def test_env_bool_default_when_unset(monkeypatch):
    monkeypatch.delenv("SOCIALDESK_FLAG", raising=False)
    assert env_bool("SOCIALDESK_FLAG", True) is True


def test_env_int_reads_whole_numbers_and_defaults(monkeypatch):
    monkeypatch.setenv("SOCIALDESK_NUMBER", " 42 ")
    assert env_int("SOCIALDESK_NUMBER", 7) == 42
    monkeypatch.setenv("SOCIALDESK_NUMBER", "")
    assert env_int("SOCIALDESK_NUMBER", 7) == 7


@pytest.mark.parametrize("raw", ["abc", "1.5", "10s"])
def test_env_int_refuses_what_is_not_a_whole_number(monkeypatch, raw):
    monkeypatch.setenv("SOCIALDESK_NUMBER", raw)
    with pytest.raises(ImproperlyConfigured, match="SOCIALDESK_NUMBER"):
        env_int("SOCIALDESK_NUMBER", 7)


def test_env_int_refuses_a_number_below_the_minimum(monkeypatch):
    monkeypatch.setenv("SOCIALDESK_NUMBER", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum 1"):
        env_int("SOCIALDESK_NUMBER", 7, minimum=1)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("SOCIALDESK_HOSTS", " desk.example.org, ,www.example.org,")
    assert env_list("SOCIALDESK_HOSTS", ["x"]) == ["desk.example.org", "www.example.org"]
    monkeypatch.delenv("SOCIALDESK_HOSTS")
    assert env_list("SOCIALDESK_HOSTS", ["x"]) == ["x"]


def test_env_str_required_fails_when_missing(monkeypatch):
    monkeypatch.delenv("SOCIALDESK_TOKEN", raising=False)
    with pytest.raises(ImproperlyConfigured, match="SOCIALDESK_TOKEN is required"):
        env_str("SOCIALDESK_TOKEN", required=True)


def test_a_secret_can_come_from_a_file_and_wins_over_the_variable(monkeypatch, tmp_path):
    secret_file = tmp_path / "token"
    secret_file.write_text("from-the-file\n", encoding="utf-8")
    monkeypatch.setenv("SOCIALDESK_TOKEN", "from-the-variable")
    monkeypatch.setenv("SOCIALDESK_TOKEN_FILE", str(secret_file))
    assert env_str("SOCIALDESK_TOKEN") == "from-the-file"


def test_an_unreadable_secret_file_fails_loudly(monkeypatch, tmp_path):
    monkeypatch.setenv("SOCIALDESK_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="SOCIALDESK_TOKEN_FILE"):
        env_str("SOCIALDESK_TOKEN")


# --- the settings module --------------------------------------------------------------------------


def test_debug_is_off_and_https_is_on_by_default(load_settings, tmp_path):
    settings = load_settings(**production_environment(tmp_path))
    assert settings["DEBUG"] is False
    assert settings["SECURE_SSL_REDIRECT"] is True
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["CSRF_COOKIE_SECURE"] is True
    assert settings["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert "SECURE_PROXY_SSL_HEADER" not in settings  # trusted only when the operator says so


def test_secret_key_is_required_without_debug(load_settings):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        load_settings(SOCIALDESK_ENCRYPTION_KEYS=Fernet.generate_key().decode())


def test_encryption_keys_are_required_without_debug(load_settings):
    with pytest.raises(ImproperlyConfigured, match="SOCIALDESK_ENCRYPTION_KEYS"):
        load_settings(SECRET_KEY=secrets.token_urlsafe(50))


def test_debug_runs_without_secrets(load_settings):
    settings = load_settings(DEBUG="true")
    assert settings["DEBUG"] is True
    assert settings["SECRET_KEY"]
    assert settings["SECURE_SSL_REDIRECT"] is False


def test_secret_key_can_come_from_a_file(load_settings, tmp_path):
    key = secrets.token_urlsafe(50)
    key_file = tmp_path / "secret_key"
    key_file.write_text(key, encoding="utf-8")
    environment = production_environment(tmp_path)
    del environment["SECRET_KEY"]
    settings = load_settings(SECRET_KEY_FILE=str(key_file), **environment)
    assert settings["SECRET_KEY"] == key


def test_a_bad_boolean_stops_the_settings(load_settings, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="DEBUG='verdadero'"):
        load_settings(DEBUG="verdadero", **production_environment(tmp_path))


def test_a_bad_number_stops_the_settings(load_settings, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="SOCIALDESK_HEARTBEAT_SECONDS"):
        load_settings(SOCIALDESK_HEARTBEAT_SECONDS="quince", **production_environment(tmp_path))


@pytest.mark.parametrize(
    "url", ["oracle://desk:s3cret@db/desk", "postgres//desk:s3cret@db/desk", "db.internal"]
)
def test_a_bad_database_url_stops_the_settings_without_repeating_it(load_settings, tmp_path, url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL") as raised:
        load_settings(DATABASE_URL=url, **production_environment(tmp_path))
    assert "s3cret" not in str(raised.value)


def test_embedded_default_is_sqlite_and_the_filesystem_broker_in_the_var_dir(load_settings, tmp_path):
    settings = load_settings(**production_environment(tmp_path))
    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["DATABASES"]["default"]["NAME"] == str(tmp_path / "socialdesk.sqlite3")
    assert settings["CELERY_BROKER_URL"] == "socialdesk-filesystem://"
    assert settings["CELERY_BROKER_TRANSPORT_OPTIONS"]["data_folder_in"].startswith(str(tmp_path))


def test_production_points_database_broker_and_cache_at_the_services(load_settings, tmp_path):
    settings = load_settings(
        DATABASE_URL="postgres://socialdesk:pw@postgres:5432/socialdesk",
        REDIS_URL="redis://redis:6379/0",
        **production_environment(tmp_path),
    )
    database = settings["DATABASES"]["default"]
    assert (database["ENGINE"], database["HOST"], database["NAME"]) == (
        "django.db.backends.postgresql",
        "postgres",
        "socialdesk",
    )
    assert settings["CELERY_BROKER_URL"] == settings["CELERY_RESULT_BACKEND"] == "redis://redis:6379/0"
    assert settings["CACHES"]["default"]["LOCATION"] == "redis://redis:6379/0"


def test_production_settings_pass_check_deploy_with_no_issues(tmp_path):
    environment = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "socialdesk.settings",
        "DEBUG": "false",
        "SECURE_PROXY_SSL_HEADER": "true",
        "CSRF_TRUSTED_ORIGINS": "https://desk.example.org",
        **production_environment(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
