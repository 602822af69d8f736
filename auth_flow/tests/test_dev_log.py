"""`make run`'s log: the development server's lines a person reads, static files left out."""

import logging

import pytest

from auth_flow.devtools.quiet_log import StaticRequestsQuiet


def server_line(request_line: str, status: int) -> logging.LogRecord:
    """Make the record Django's development server logs for one request."""
    record = logging.LogRecord(
        "django.server", logging.INFO, __file__, 1, '"%s" %s %s', (request_line, status, 9), None
    )
    record.status_code = status
    return record


@pytest.mark.parametrize(
    ("request_line", "status", "shown"),
    [
        ("GET /static/css/site.css HTTP/1.1", 200, False),
        ("GET /static/js/site.js HTTP/1.1", 304, False),
        ("GET /favicon.ico HTTP/1.1", 200, False),
        ("GET /static/js/missing.js HTTP/1.1", 404, True),
        ("GET /accounts/login/ HTTP/1.1", 200, True),
        ("POST /accounts/password_reset/ HTTP/1.1", 200, True),
        ("GET /?next=/static/x HTTP/1.1", 200, True),
    ],
)
def test_static_files_served_fine_are_left_out(request_line, status, shown):
    assert StaticRequestsQuiet().filter(server_line(request_line, status)) is shown


def test_the_development_server_logger_uses_it():
    filters = logging.getLogger("django.server").filters

    assert any(isinstance(each, StaticRequestsQuiet) for each in filters)
