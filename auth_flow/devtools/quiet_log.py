"""Keep the development server's log to the lines a person reads."""

import logging

from django.conf import settings


class StaticRequestsQuiet(logging.Filter):
    """Drop the development server's line for each static file served without error.

    A page brings a stylesheet, scripts and an icon; in `make run` their lines sat
    between the emails the worker prints and hid them. Failures still show.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request_line = (
            str(record.args[0]) if isinstance(record.args, tuple) and record.args else ""
        )
        _, _, rest = request_line.partition(" ")
        path = rest.partition(" ")[0]
        served = getattr(record, "status_code", 500) < 400
        return not (served and path.startswith((settings.STATIC_URL, "/favicon.ico")))
