"""Settings come from the environment with safe defaults and fail loudly when unsafe."""

import runpy

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

SETTINGS_FILE = str(django_settings.BASE_DIR / "site_config" / "settings.py")
PROVIDER_VARIABLES = [
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "EMAIL_PROVIDER",
    "EMAIL_HOST",
    "MAILGUN_API_KEY",
    "MAILGUN_SENDER_DOMAIN",
    "SENDGRID_API_KEY",
    "SITE_URL",
    "PASSWORD_RESET_TIMEOUT",
    "SIGNUP_CONFIRM_TIMEOUT",
]


@pytest.fixture
def environ(monkeypatch):
    """Start each case from a production-like environment with nothing set."""
    for name in PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DJANGO_SECRET_KEY", "a-real-secret")
    return monkeypatch


def load_settings() -> dict:
    return runpy.run_path(SETTINGS_FILE)


def test_safe_defaults(environ):
    environ.setenv("EMAIL_PROVIDER", "console")
    loaded = load_settings()

    assert loaded["DEBUG"] is False
    assert loaded["PASSWORD_RESET_TIMEOUT"] == 3600
    assert loaded["SIGNUP_CONFIRM_TIMEOUT"] == 3600
    assert (
        loaded["MAILERS"]["default"]["BACKEND"] == "auth_flow.mail.console.ReadableConsoleBackend"
    )
    assert loaded["TASKS"]["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert loaded["ALLOWED_HOSTS"] == ["127.0.0.1"]


def test_secret_key_is_required_without_debug(environ):
    environ.delenv("DJANGO_SECRET_KEY")

    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
        load_settings()


@pytest.mark.parametrize(
    ("provider", "missing"),
    [
        ("smtp", "EMAIL_HOST"),
        ("mailgun", "MAILGUN_API_KEY"),
        ("sendgrid", "SENDGRID_API_KEY"),
    ],
)
def test_a_provider_without_its_key_fails_at_start_up_naming_it(environ, provider, missing):
    environ.setenv("EMAIL_PROVIDER", provider)

    with pytest.raises(ImproperlyConfigured, match=missing):
        load_settings()


def test_mailgun_needs_its_sender_domain_too(environ):
    environ.setenv("EMAIL_PROVIDER", "mailgun")
    environ.setenv("MAILGUN_API_KEY", "key")

    with pytest.raises(ImproperlyConfigured, match="MAILGUN_SENDER_DOMAIN"):
        load_settings()


def test_unknown_provider_is_refused(environ):
    environ.setenv("EMAIL_PROVIDER", "pigeon")

    with pytest.raises(ImproperlyConfigured, match="console, smtp, mailgun, sendgrid"):
        load_settings()


def test_site_url_must_be_absolute(environ):
    environ.setenv("SITE_URL", "example.com")

    with pytest.raises(ImproperlyConfigured, match="SITE_URL"):
        load_settings()


def test_without_debug_the_email_provider_must_be_set(environ):
    # Before, an unset provider meant the console: every reset link in the server's log.
    with pytest.raises(ImproperlyConfigured, match="EMAIL_PROVIDER"):
        load_settings()


def test_with_debug_the_email_provider_defaults_to_the_console(environ):
    environ.setenv("DJANGO_DEBUG", "1")

    assert load_settings()["EMAIL_PROVIDER"] == "console"


def test_link_timeouts_come_from_the_environment(environ):
    environ.setenv("EMAIL_PROVIDER", "console")
    environ.setenv("PASSWORD_RESET_TIMEOUT", "900")
    assert load_settings()["SIGNUP_CONFIRM_TIMEOUT"] == 900  # the reset timeout's

    environ.setenv("SIGNUP_CONFIRM_TIMEOUT", "86400")
    loaded = load_settings()

    assert (loaded["PASSWORD_RESET_TIMEOUT"], loaded["SIGNUP_CONFIRM_TIMEOUT"]) == (900, 86400)


def test_deploy_check_refuses_the_console_provider(settings):
    from auth_flow.checks import check_email_provider

    settings.EMAIL_PROVIDER = "console"
    assert [error.id for error in check_email_provider(None)] == ["auth_flow.E001"]
    settings.EMAIL_PROVIDER = "mailgun"
    assert check_email_provider(None) == []


def test_sqlite_is_tuned_for_a_web_server_and_a_worker(db):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite settings only")
    with connection.cursor() as cursor:
        journal = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        synchronous = cursor.execute("PRAGMA synchronous").fetchone()[0]
        busy = cursor.execute("PRAGMA busy_timeout").fetchone()[0]

    assert journal == "wal"
    assert synchronous == 1  # NORMAL
    assert busy == 20_000
    assert connection.transaction_mode == "IMMEDIATE"


@pytest.mark.parametrize("name", ["django.tasks", "django.utils.autoreload", "auth_flow.mail"])
def test_each_log_line_is_written_once_and_redacted(name, settings):
    import logging
    import logging.config

    from django.utils.log import configure_logging

    # As `make run` configures it: Django's defaults under DEBUG, then ours.
    settings.DEBUG = True
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    try:
        record = logging.LogRecord(name, logging.INFO, __file__, 1, "x", None, None)
        writers, logger = [], logging.getLogger(name)
        while logger:
            writers += [h for h in logger.handlers if h.filter(record)]
            logger = logger.parent if logger.propagate else None
        assert len(writers) == 1, writers
        assert any(type(f).__name__ == "RedactResetTokens" for f in writers[0].filters)
    finally:
        logging.config.dictConfig(settings.LOGGING)
