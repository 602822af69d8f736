"""No emailed link's token reaches the logs."""

import logging

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from auth_flow.protection.redaction import RedactResetTokens, text_redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '"GET /accounts/reset/MQ/cz7mgk-4f2b0c9d1e8a7b6c5d4e3f2a1b0c9d8e/ HTTP/1.1" 302 0',
            '"GET /accounts/reset/MQ/[redacted]/ HTTP/1.1" 302 0',
        ),
        ("GET /accounts/reset/MQ/set-password/", "GET /accounts/reset/MQ/set-password/"),
        (
            '"GET /accounts/verify/MQ/d2k1xq-0a1b2c3d4e5f60718293a4b5c6d7e8f9/ HTTP/1.1" 302 0',
            '"GET /accounts/verify/MQ/[redacted]/ HTTP/1.1" 302 0',
        ),
        ("POST /accounts/verify/MQ/confirm/", "POST /accounts/verify/MQ/confirm/"),
        ("GET /accounts/password_reset/done/", "GET /accounts/password_reset/done/"),
    ],
)
def test_reset_tokens_are_redacted(text, expected):
    assert text_redact(text=text) == expected


def test_the_log_filter_rewrites_formatted_records():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s',
        ("GET /accounts/reset/MQ/abc-123/", 302),
        None,
    )

    RedactResetTokens().filter(record)

    assert record.getMessage() == '"GET /accounts/reset/MQ/[redacted]/" 302'


def token_routes(resolver=None, namespace=""):
    """Yield the name of every URL pattern that takes a token in its path."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from token_routes(entry, namespace)
        elif isinstance(entry, URLPattern) and "token" in entry.pattern.converters:
            yield entry.name


def test_every_path_that_carries_a_token_is_redacted():
    names = sorted(set(token_routes()))
    token = "cz7mgk-4f2b0c9d1e8a7b6c5d4e3f2a1b0c9d8e"

    assert names == ["email_verify", "password_reset_confirm"]
    for name in names:
        path = reverse(name, kwargs={"uidb64": "MQ", "token": token})
        assert token not in text_redact(text=f'"GET {path} HTTP/1.1" 302 0'), name
