import logging

import pytest

from auth_flow.redaction import RedactResetTokens, text_redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '"GET /accounts/reset/MQ/cz7mgk-4f2b0c9d1e8a7b6c5d4e3f2a1b0c9d8e/ HTTP/1.1" 302 0',
            '"GET /accounts/reset/MQ/[redacted]/ HTTP/1.1" 302 0',
        ),
        ("GET /accounts/reset/MQ/set-password/", "GET /accounts/reset/MQ/set-password/"),
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
