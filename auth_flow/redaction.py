"""Keep reset tokens out of the logs.

The first request of a reset link carries the token in its path, and the development
server (and any access log) would write that path down.
"""

import logging
import re

RESET_PATH = re.compile(r"(/reset/[^/\s]+/)(?!set-password/)[^/\s\"']+")


def text_redact(*, text: str) -> str:
    """Replace the token in any reset-link path within the text."""
    return RESET_PATH.sub(r"\1[redacted]", text)


class RedactResetTokens(logging.Filter):
    """Rewrite a log record so that no reset-link token survives in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = text_redact(text=message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
