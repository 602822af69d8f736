"""Keep the tokens of emailed links out of the logs.

The first request of a reset or sign-up confirmation link carries its token in the
path, and the development server (and any access log) would write that path down.
"""

import logging
import re

# /accounts/reset/<uid>/<token>/ and /accounts/verify/<uid>/<token>/; not the pages the
# token moves to (set-password/, confirm/), which hold none.
TOKEN_PATH = re.compile(
    r"(/(?:reset|verify)/[^/\s]+/)(?!(?:set-password|confirm)(?:[/\s\"']|$))[^/\s\"']+"
)


def text_redact(*, text: str) -> str:
    """Replace the token in any emailed link's path within the text."""
    return TOKEN_PATH.sub(r"\1[redacted]", text)


class RedactResetTokens(logging.Filter):
    """Rewrite a log record so that no emailed link's token survives in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = text_redact(text=message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
