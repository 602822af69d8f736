"""Settings for the site, read from the environment with safe defaults.

Every variable read here is documented in `.env.example`.
"""

import os
import re
import string
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, *, default: bool) -> bool:
    """Read a yes/no environment variable."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, *, default: str = "") -> list[str]:
    """Read a comma-separated environment variable."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_required(name: str) -> str:
    """Read an environment variable that has no safe default."""
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable (see .env.example).")
    return value


# https://docs.djangoproject.com/en/6.1/ref/settings/#debug
DEBUG = env_bool("DJANGO_DEBUG", default=False)

# Local development may run on a fixed, insecure key; anything else must set its own.
if DEBUG:
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "django-insecure-local-development-only"
else:
    SECRET_KEY = env_required("DJANGO_SECRET_KEY")

# The public address of the site; every link in an email is built from it, never from
# the request's Host header (which an attacker controls).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in {"http", "https"} or not _site.hostname:
    raise ImproperlyConfigured(f"SITE_URL must be an absolute http(s) URL, not {SITE_URL!r}.")

# The name emails and pages show people ({{ site_name }} in the email copy).
SITE_NAME = os.environ.get("SITE_NAME", "Passage").strip() or "Passage"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", default=_site.hostname)
if DEBUG:
    ALLOWED_HOSTS += ["localhost", "127.0.0.1", "[::1]"]
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"]

INSTALLED_APPS = [
    "auth_flow",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "anymail",
    "simple_history",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language (cookie, then Accept-Language); AccountLanguageMiddleware
    # below puts the account's saved choice first.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "auth_flow.i18n.AccountLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Records who saved each version of the email copy (django-simple-history).
    "simple_history.middleware.HistoryRequestMiddleware",
    # Sets the device cookie after a log-in; outside HtmxRedirectMiddleware, so it
    # reaches the response that middleware may put in place of a redirect.
    "auth_flow.protection.middleware.DeviceCookieMiddleware",
    "auth_flow.htmx.HtmxRedirectMiddleware",
]

ROOT_URLCONF = "site_config.urls"
WSGI_APPLICATION = "site_config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "auth_flow.i18n.language_menu",
            ],
        },
    },
]

# https://docs.djangoproject.com/en/6.1/ref/settings/#databases
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so a worker process started by the tests shares the test DB;
    # beside the database it tests, so two runs on two databases don't share one.
    _db_file = Path(DATABASES["default"]["NAME"])
    DATABASES["default"]["TEST"] = {"NAME": str(_db_file.with_name(f"test-{_db_file.name}"))}
    # https://docs.djangoproject.com/en/6.1/ref/databases/#sqlite-transaction-behavior
    # Tuned for a web server and a worker writing at once: WAL lets readers go on while
    # one writes (and doubled reset throughput here); synchronous=NORMAL is safe with WAL
    # (a power cut can lose the last commits, never corrupt); a transaction takes the
    # write lock when it starts, so two that read then write (two editors saving at
    # once) queue up instead of deadlocking into "database is locked"; `timeout` is how
    # many seconds one waits for the other.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# https://docs.djangoproject.com/en/6.1/topics/auth/customizing/
AUTH_USER_MODEL = "auth_flow.User"
AUTHENTICATION_BACKENDS = ["auth_flow.accounts.backends.UsernameOrEmailBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT") or 60 * 60)
# How long a sign-up's confirmation link works (checked when it is used); unconfirmed
# sign-ups are deleted after it.
SIGNUP_CONFIRM_TIMEOUT = int(os.environ.get("SIGNUP_CONFIRM_TIMEOUT") or PASSWORD_RESET_TIMEOUT)
# Off by default: it mails addresses that have no account here, on request of anyone.
PASSWORD_RESET_NOTIFY_UNKNOWN = env_bool("PASSWORD_RESET_NOTIFY_UNKNOWN", default=False)

RESET_URL_PLACEHOLDERS = {"key", "uid", "token"}


def reset_url_template_check(template: str) -> str:
    """Refuse a frontend reset-link template that is not absolute https or names unknowns.

    Plain http only for a loopback host (a frontend on this machine, in development).
    """
    if not template:
        return ""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
        url = urlsplit(template.format(key="k", uid="u", token="t"))
    except (ValueError, IndexError, KeyError) as error:
        raise ImproperlyConfigured(
            f"PASSWORD_RESET_CONFIRM_URL is not a valid template ({error})."
        ) from None
    loopback = url.hostname in {"localhost", "127.0.0.1", "::1"}
    if not url.hostname or not (url.scheme == "https" or (url.scheme == "http" and loopback)):
        raise ImproperlyConfigured(
            f"PASSWORD_RESET_CONFIRM_URL must be an absolute https URL, not {template!r}."
        )
    if unknown := fields - RESET_URL_PLACEHOLDERS:
        raise ImproperlyConfigured(
            f"PASSWORD_RESET_CONFIRM_URL uses unknown placeholders {sorted(unknown)}; "
            "use {key}, or {uid} and {token}."
        )
    if not ({"key"} <= fields or {"uid", "token"} <= fields):
        raise ImproperlyConfigured(
            "PASSWORD_RESET_CONFIRM_URL must contain {key}, or both {uid} and {token}."
        )
    return template


# The link in reset emails: empty for the site's own page, or a frontend's, such as
# https://app.example.com/reset?key={key} or https://app.example.com/reset/{uid}/{token}.
PASSWORD_RESET_CONFIRM_URL = reset_url_template_check(
    os.environ.get("PASSWORD_RESET_CONFIRM_URL", "").strip()
)
# https://docs.djangoproject.com/en/6.1/topics/auth/passwords/#using-argon2-with-django
# Argon2 for new passwords; older PBKDF2 hashes still check and are upgraded at login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
# The password policy of NIST SP 800-63B-4 (3.1.1.2): length, a blocklist (common
# passwords, words of this site and account, known breaches), no composition rules; any
# printable Unicode and spaces are allowed. A long random number is a fine password, so
# Django's NumericPasswordValidator is left out: the common list refuses the obvious ones
# ("111111111111111", "123456789123456"), the breach check most of the rest.
# Characters; 15 is NIST's minimum where the password is the only factor.
PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH") or 15)
# Characters; NIST asks for at least 64 allowed, the cap keeps hashing a "password" cheap.
PASSWORD_MAX_LENGTH = int(os.environ.get("PASSWORD_MAX_LENGTH") or 4096)
if PASSWORD_MIN_LENGTH < 8:
    raise ImproperlyConfigured(
        f"PASSWORD_MIN_LENGTH must be at least 8 (NIST SP 800-63B), not {PASSWORD_MIN_LENGTH}."
    )
if PASSWORD_MAX_LENGTH < 64 or PASSWORD_MAX_LENGTH < PASSWORD_MIN_LENGTH:
    raise ImproperlyConfigured(
        "PASSWORD_MAX_LENGTH must allow at least 64 characters and PASSWORD_MIN_LENGTH, "
        f"not {PASSWORD_MAX_LENGTH}."
    )
# https://haveibeenpwned.com/API/v3#PwnedPasswords: new passwords are checked against
# known breaches by k-anonymity (5 hex characters of the SHA-1 leave the site). Off
# under DEBUG so local development works offline; PWNED_PASSWORDS_CHECK=1 to try it.
PWNED_PASSWORDS_CHECK = env_bool("PWNED_PASSWORDS_CHECK", default=not DEBUG)
# The range API's root; the client asks {PWNED_PASSWORDS_API_URL}/range/<prefix>.
PWNED_PASSWORDS_API_URL = (
    os.environ.get("PWNED_PASSWORDS_API_URL", "").strip() or "https://api.pwnedpasswords.com"
).rstrip("/")
_pwned = urlsplit(PWNED_PASSWORDS_API_URL)
if _pwned.scheme not in {"http", "https"} or not _pwned.hostname:
    raise ImproperlyConfigured(
        "PWNED_PASSWORDS_API_URL must be an absolute http(s) URL, "
        f"not {PWNED_PASSWORDS_API_URL!r}."
    )
# Seconds to wait for it, at most 2: a slow service must not hold up a sign-up.
PWNED_PASSWORDS_TIMEOUT = min(float(os.environ.get("PWNED_PASSWORDS_TIMEOUT") or 2), 2.0)
if PWNED_PASSWORDS_TIMEOUT <= 0:
    raise ImproperlyConfigured("PWNED_PASSWORDS_TIMEOUT must be a number of seconds above 0.")
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {
        "NAME": "auth_flow.accounts.validators.MaximumLengthValidator",
        "OPTIONS": {"max_length": PASSWORD_MAX_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "auth_flow.accounts.validators.PersonalWordsValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # Last, so its error follows the rules a person can see while typing.
    {"NAME": "auth_flow.accounts.breach.BreachedPasswordValidator"},
]

# Sessions and cookies: secure when served over https.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _site.scheme == "https"
# Seconds a browser stays trusted for an account it logged in to (the device cookie:
# others' wrong passwords cannot lock it out). Default: 365 days.
DEVICE_COOKIE_MAX_AGE = int(os.environ.get("DEVICE_COOKIE_MAX_AGE") or 365 * 24 * 60 * 60)
if _site.scheme == "https" and not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", default=True)
    # Opt-in: HSTS cannot be taken back from browsers that have seen it.
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS") or 0)

# https://docs.djangoproject.com/en/6.1/ref/csp/
# Scripts only from this site, plus a per-response nonce; htmx is configured not to
# eval or inject inline styles, so no 'unsafe-*' source is needed.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
# Same-origin keeps any URL (reset links included) out of Referer to other sites; the
# reset-confirm view goes further and sends no Referer at all.
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# https://docs.djangoproject.com/en/6.1/topics/email/
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Account <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Console locally; a server must say which provider it sends through, so a forgotten
# variable can never print every reset link to a production log instead of sending it.
EMAIL_PROVIDER = os.environ.get("EMAIL_PROVIDER", "").strip().lower() or (
    "console" if DEBUG else ""
)
if not EMAIL_PROVIDER:
    raise ImproperlyConfigured(
        "Set the EMAIL_PROVIDER environment variable to smtp, mailgun, sendgrid or console "
        "(see .env.example); with DEBUG off it has no default."
    )


def mailer_config(provider: str) -> dict:
    """Return the MAILERS entry for an EMAIL_PROVIDER, failing early on a missing key."""
    if provider == "console":
        return {"BACKEND": "auth_flow.mail.console.ReadableConsoleBackend"}
    if provider == "smtp":
        return {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env_required("EMAIL_HOST"),
                "port": int(os.environ.get("EMAIL_PORT") or 587),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", default=True),
                "timeout": 15,  # seconds; a slower send fails and is retried
            },
        }
    if provider == "mailgun":
        options = {
            "api_key": env_required("MAILGUN_API_KEY"),
            "sender_domain": env_required("MAILGUN_SENDER_DOMAIN"),
        }
        if api_url := os.environ.get("MAILGUN_API_URL"):
            options["api_url"] = api_url  # e.g. https://api.eu.mailgun.net/v3
        return {"BACKEND": "anymail.backends.mailgun.EmailBackend", "OPTIONS": options}
    if provider == "sendgrid":
        # SendGrid's SMTP relay rather than anymail's SendGrid backend, which anymail no
        # longer supports (anymail.W003); see README "Email providers".
        return {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": "smtp.sendgrid.net",
                "port": 587,
                "username": "apikey",
                "password": env_required("SENDGRID_API_KEY"),
                "use_tls": True,
                "timeout": 15,  # seconds; a slower send fails and is retried
            },
        }
    raise ImproperlyConfigured(
        f"EMAIL_PROVIDER must be one of console, smtp, mailgun, sendgrid; not {provider!r}."
    )


MAILERS = {"default": mailer_config(EMAIL_PROVIDER)}
# console: where each email's HTML part is written (the newest 20 kept), to open locally.
EMAIL_CONSOLE_HTML_DIR = Path(os.environ.get("EMAIL_CONSOLE_HTML_DIR") or BASE_DIR / "sent-emails")

# Hosts besides SITE_URL's that links in email copy ([text](https://host/…) in a body)
# may point to, each exactly: a subdomain only if it is listed itself.
EMAIL_COPY_LINK_HOSTS = [host.lower() for host in env_list("EMAIL_COPY_LINK_HOSTS")]
for _host in EMAIL_COPY_LINK_HOSTS:
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?", _host):
        raise ImproperlyConfigured(
            "EMAIL_COPY_LINK_HOSTS lists host names only (an international one in its xn-- "
            f"form), not {_host!r}."
        )

# https://anymail.dev/en/stable/tips/securing_webhooks/
# The provider's tracking webhook (bounces, complaints) is served only with its
# authentication (auth_flow/mail/webhooks.py): basic auth ("user:password") always, and
# Mailgun's signing key. anymail takes an empty secret for "no authentication", which
# would let anyone stop the site mailing any address, so a server needs them.
WEBHOOK_SECRETS = {
    "mailgun": ("ANYMAIL_WEBHOOK_SECRET", "MAILGUN_WEBHOOK_SIGNING_KEY"),
    "sendgrid": ("ANYMAIL_WEBHOOK_SECRET",),
}


def anymail_config(*, provider: str, debug: bool) -> dict:
    """Return the ANYMAIL settings, failing early on a webhook secret the provider needs."""
    needed = () if debug else WEBHOOK_SECRETS.get(provider, ())
    secret, signing_key = (
        env_required(name) if name in needed else os.environ.get(name, "")
        for name in ("ANYMAIL_WEBHOOK_SECRET", "MAILGUN_WEBHOOK_SIGNING_KEY")
    )
    if secret and ":" not in secret:
        raise ImproperlyConfigured(
            "ANYMAIL_WEBHOOK_SECRET must be user:password, the basic auth in the webhook URL."
        )
    return {"WEBHOOK_SECRET": secret, "MAILGUN_WEBHOOK_SIGNING_KEY": signing_key}


ANYMAIL = anymail_config(provider=EMAIL_PROVIDER, debug=DEBUG)

# https://docs.djangoproject.com/en/6.1/topics/tasks/
# A durable queue in the site's own database: SQLite locally, PostgreSQL in production.
# `manage.py send_worker` runs it (make run starts one beside the web server).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Worker processes (`send_worker --processes`): one per core, since rendering and MIME
# building are CPU work that threads of one process cannot spread.
EMAIL_WORKER_PROCESSES = int(os.environ.get("EMAIL_WORKER_PROCESSES") or os.cpu_count() or 1)
# Emails each worker process sends at once (threads, each with its own database and
# provider connection); `send_worker --concurrency` overrides it.
EMAIL_WORKER_CONCURRENCY = int(os.environ.get("EMAIL_WORKER_CONCURRENCY") or 24)
# Delivery retries: transient failures wait RETRY_BASE * 2**attempt seconds.
EMAIL_SEND_ATTEMPTS = int(os.environ.get("EMAIL_SEND_ATTEMPTS") or 5)
EMAIL_RETRY_BASE_SECONDS = float(os.environ.get("EMAIL_RETRY_BASE_SECONDS") or 30)
# A task still "running" this long after it started belonged to a worker that died;
# the next worker to start runs it again.
TASK_STALE_AFTER_SECONDS = int(os.environ.get("TASK_STALE_AFTER_SECONDS") or 300)
# Finished task results (they hold each request's address, IP and browser) are deleted
# this many days after they finish, by the workers themselves.
TASK_RESULT_RETENTION_DAYS = int(os.environ.get("TASK_RESULT_RETENTION_DAYS") or 7)

# https://docs.djangoproject.com/en/6.1/topics/cache/
# Rate limits live in the cache: one process's memory locally, Redis when several
# processes must share them. While Redis does not answer, each process counts in its own
# memory (auth_flow/protection/ratelimit.py); short timeouts keep an outage from stalling requests.
if REDIS_URL := os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Passed by Django's RedisCache to redis-py's connection pool; seconds.
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Rate limits, as "count/seconds": per client IP (an IPv6 client by its /64) for each
# form (failed log-ins are counted by the authentication backend, so the admin's log-in
# too), failed log-ins per identifier, and per address for reset emails (one inbox
# cannot be flooded from many IPs).
RATE_LIMITS = {
    # Failed log-ins per client IP (successes do not count: offices share addresses).
    "login": os.environ.get("RATE_LIMIT_LOGIN") or "20/900",
    # Failed log-ins per username or email address typed, from browsers without that
    # account's device cookie; per device cookie from those with one; and wrong old
    # passwords per account on the change-password page and API.
    "login_failures": os.environ.get("RATE_LIMIT_LOGIN_FAILURES") or "5/900",
    "signup": os.environ.get("RATE_LIMIT_SIGNUP") or "10/3600",
    "password_reset": os.environ.get("RATE_LIMIT_PASSWORD_RESET") or "10/900",
    # The API's key check and confirm, per IP.
    "password_reset_key": os.environ.get("RATE_LIMIT_PASSWORD_RESET_KEY") or "20/900",
    "password_change": os.environ.get("RATE_LIMIT_PASSWORD_CHANGE") or "10/900",
    # The new-password fields' check while typing (debounced: a few per password typed).
    "password_rules": os.environ.get("RATE_LIMIT_PASSWORD_RULES") or "300/900",
    "reset_email_per_address": os.environ.get("RATE_LIMIT_RESET_EMAILS") or "3/900",
    # Test sends of email copy per staff account (each is a real email).
    "copy_test_send": os.environ.get("RATE_LIMIT_COPY_TEST_SENDS") or "20/3600",
    # Sign-up emails per address (a confirmation link, or "someone tried to sign up
    # with your address"), counted in the database by the workers like the reset cap.
    "signup_email_per_address": os.environ.get("RATE_LIMIT_SIGNUP_EMAILS") or "3/900",
    # The same per address and day: a patient flood from many IPs stops too.
    "reset_email_per_address_daily": os.environ.get("RATE_LIMIT_RESET_EMAILS_DAILY") or "10/86400",
    "signup_email_per_address_daily": (
        os.environ.get("RATE_LIMIT_SIGNUP_EMAILS_DAILY") or "10/86400"
    ),
}
# How many reverse proxies in front of the site append to X-Forwarded-For (0: none, so
# the header is ignored and REMOTE_ADDR is the client).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT") or 0)

# https://docs.djangoproject.com/en/6.1/howto/static-files/
STATIC_URL = "static/"
# Where collectstatic gathers the files whitenoise serves.
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# https://docs.djangoproject.com/en/6.1/topics/i18n/
# The language a person sees: their account's choice, else this browser's (the
# language cookie), else Accept-Language, else LANGUAGE_CODE (auth_flow.i18n). URLs
# carry no language prefix, so every link already sent keeps working.
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("pt-br", "Português (Brasil)"),
    ("ja", "日本語"),
    ("ar", "العربية"),
]
LANGUAGE_CODE = os.environ.get("DJANGO_LANGUAGE_CODE", "en").strip().lower() or "en"
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"DJANGO_LANGUAGE_CODE must be one of {', '.join(dict(LANGUAGES))}, not {LANGUAGE_CODE!r}."
    )
LOCALE_PATHS = [BASE_DIR / "auth_flow" / "locale"]
LANGUAGE_COOKIE_SECURE = _site.scheme == "https"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
# Times in emails are UTC unless the account or the request named a time zone.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_reset_tokens": {"()": "auth_flow.protection.redaction.RedactResetTokens"},
        "static_requests_quiet": {"()": "auth_flow.devtools.quiet_log.StaticRequestsQuiet"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_reset_tokens"],
        },
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # The development server logs every request path, reset links included (and
        # redacted), but not each static file served.
        "django.server": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
            "filters": ["static_requests_quiet"],
        },
        # Django's default config gives "django" a plain console handler under DEBUG, and
        # it propagated to ours: every django.* line (each task, the reloader) printed
        # twice in `make run`. One handler, redacting, for all of them.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# https://www.django-rest-framework.org/api-guide/settings/
# JSON only (no browsable API: no templates or inline scripts under the site's CSP);
# each view sets its own authentication (session with CSRF for change, none for reset).
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_SCHEMA_CLASS": "auth_flow.api.schema.LanguageAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": f"{SITE_NAME} password API",
    "DESCRIPTION": (
        "Password reset and change for SPAs and mobile apps: the same guarantees as the "
        "site's pages (no enumeration, uniform timing, one-time keys, rate limits)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from this site's static files (drf-spectacular-sidecar): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
