"""docker-compose.yml and the Dockerfile hang together (there is no Docker engine here to try them)."""

import importlib
import re
from urllib.parse import urlsplit

import environ
import pytest
import yaml
from celery import Celery
from django.core.management import call_command

from socialdesk import health
from socialdesk.heartbeat import COMPONENTS
from tests.environment_reads import REPO, variables_read

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING = ("postgres", "redis", "web", "worker", "beat")
# What the official postgres image reads; everything else a service sets must be read by SocialDesk.
POSTGRES_IMAGE_VARIABLES = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_INITDB_ARGS"}
REQUIRED_SECRETS = ("SECRET_KEY", "SOCIALDESK_ENCRYPTION_KEYS", "POSTGRES_PASSWORD", "ALLOWED_HOSTS")
INTERPOLATION = re.compile(r"\$\{([A-Z_]+)(:?[-?])?[^}]*\}")


def command_of(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    return command.split() if isinstance(command, str) else command


def without_interpolation(value: str) -> str:
    return INTERPOLATION.sub("interpolated", value)


def dockerfile_env(name: str) -> str:
    found = re.search(rf"\b{name}=(\S+)", DOCKERFILE)
    assert found, f"the Dockerfile sets no {name}"
    return found.group(1)


def test_all_services_are_there():
    assert set(SERVICES) >= {*LONG_RUNNING, "migrate"}


def test_web_runs_the_wsgi_application_under_gunicorn():
    command = command_of("web")
    assert command[0] == "gunicorn"
    module_name, _, attribute = next(part for part in command if "wsgi" in part).partition(":")
    assert callable(getattr(importlib.import_module(module_name), attribute or "application"))


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_worker_and_beat_run_the_socialdesk_celery_app(service):
    command = command_of(service)
    assert command[0] == "celery"
    app_name = command[command.index("--app") + 1]
    app = importlib.import_module(app_name).celery_app  # what `celery --app socialdesk` finds
    assert isinstance(app, Celery)
    assert service in command[command.index("--app") + 2 :]


def test_only_one_beat_runs():
    assert SERVICES["beat"].get("deploy", {}).get("replicas", 1) == 1


def test_migrate_runs_once_before_the_others_start():
    assert command_of("migrate")[-3:] == ["manage.py", "migrate", "--noinput"]
    assert SERVICES["migrate"]["restart"] == "no"
    assert SERVICES["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for service in ("web", "worker", "beat"):
        assert SERVICES[service]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_variable_given_to_the_app_is_one_the_settings_read(service):
    unknown = set(SERVICES[service]["environment"]) - variables_read()
    assert not unknown, f"{service} sets variables SocialDesk never reads: {sorted(unknown)}"


def test_the_postgres_service_gets_only_variables_its_image_reads():
    assert set(SERVICES["postgres"]["environment"]) <= POSTGRES_IMAGE_VARIABLES


@pytest.mark.parametrize("service", APP_SERVICES)
def test_database_url_points_at_the_postgres_service_and_its_credentials(service):
    raw_url = SERVICES[service]["environment"]["DATABASE_URL"]
    postgres = SERVICES["postgres"]["environment"]
    database = environ.Env.db_url_config(without_interpolation(raw_url))

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"]) == ("postgres", 5432)
    assert (database["NAME"], database["USER"]) == (postgres["POSTGRES_DB"], postgres["POSTGRES_USER"])
    password_variable = INTERPOLATION.search(postgres["POSTGRES_PASSWORD"]).group(1)
    given_password = re.fullmatch(r"postgres://[^:]+:(\$\{[^}]+\})@.*", raw_url).group(1)
    assert INTERPOLATION.fullmatch(given_password).group(1) == password_variable


@pytest.mark.parametrize("service", APP_SERVICES)
def test_redis_url_points_at_the_redis_service(service):
    url = urlsplit(SERVICES[service]["environment"]["REDIS_URL"])
    assert (url.scheme, url.hostname, url.port) == ("redis", "redis", 6379)


@pytest.mark.parametrize("name", REQUIRED_SECRETS)
def test_compose_refuses_to_start_without_the_required_secrets(name):
    # ${NAME:?message} makes `docker compose up` stop with the message when NAME is unset or empty.
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    assert re.search(rf"\$\{{{name}:\?[^}}]+\}}", text)
    assert not re.search(rf"\$\{{{name}(:?-)", text), f"{name} must not have a default"


def test_production_behind_a_proxy_trusts_its_https_header():
    assert SERVICES["web"]["environment"]["SECURE_PROXY_SSL_HEADER"] == "true"
    assert "DEBUG" not in SERVICES["web"]["environment"]  # off by default


@pytest.mark.parametrize("service", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck(service):
    assert SERVICES[service]["healthcheck"]["test"]


def test_the_web_healthcheck_asks_healthz_with_a_host_it_allows():
    probe = " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert "http://localhost:8000/healthz" in probe
    assert SERVICES["web"]["environment"]["ALLOWED_HOSTS"].split(",")[-1] == "localhost"
    assert "--bind=0.0.0.0:8000" in command_of("web")


def test_the_beat_healthcheck_names_real_checks():
    command = SERVICES["beat"]["healthcheck"]["test"]
    assert command[1:4] == ["python", "-m", "socialdesk.health"]
    assert callable(health.main)
    assert set(command[4:]) <= set(COMPONENTS)


def test_the_worker_healthcheck_pings_this_very_worker():
    assert "inspect ping --destination celery@$$HOSTNAME" in SERVICES["worker"]["healthcheck"]["test"][1]


def test_postgres_and_redis_keep_their_data_in_named_volumes():
    declared = set(COMPOSE["volumes"])
    assert "postgres-data:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    assert "redis-data:/data" in SERVICES["redis"]["volumes"]
    used = {mount.split(":")[0] for service in SERVICES.values() for mount in service.get("volumes", [])}
    assert used <= declared


def test_uploaded_media_is_shared_by_web_and_worker_under_the_var_dir():
    media_mount = f"media:{dockerfile_env('SOCIALDESK_VAR_DIR')}/media"
    assert media_mount in SERVICES["web"]["volumes"]
    assert media_mount in SERVICES["worker"]["volumes"]


def test_app_services_are_built_from_the_dockerfile():
    for service in APP_SERVICES:
        assert SERVICES[service]["build"] == "."
    assert re.search(r"^FROM python:3\.11-slim$", DOCKERFILE, re.MULTILINE)
    assert re.search(r"^RUN pip install .*\.$", DOCKERFILE, re.MULTILINE)
    assert "manage.py collectstatic --noinput" in DOCKERFILE
    assert re.search(r"^USER socialdesk$", DOCKERFILE, re.MULTILINE)
    assert ".venv" in (REPO / ".dockerignore").read_text(encoding="utf-8").split()


def test_static_files_collect_with_the_production_storage(tmp_path, settings):
    # What the Dockerfile runs with DEBUG off: WhiteNoise's manifest storage, which fails on a
    # stylesheet that points at a file that is not there.
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

    call_command("collectstatic", "--noinput", verbosity=0)

    assert (tmp_path / "staticfiles.json").is_file()
