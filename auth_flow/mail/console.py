"""The local email backend: each email printed whole, its links clickable, its HTML on disk."""

import itertools
import time
from pathlib import Path

from django.conf import settings
from django.core.mail.backends import console
from django.utils.text import slugify

# The newest emails' HTML parts kept; older files are removed as new ones arrive.
HTML_KEPT = 20
_sequence = itertools.count()


class ReadableConsoleBackend(console.EmailBackend):
    """Print each email as a person reads it: headers, then the plain-text part.

    Django's console backend prints the raw MIME message, where quoted-printable
    encoding breaks long reset links across lines; locally the link must be clickable.
    The HTML part is written to a file in EMAIL_CONSOLE_HTML_DIR, whose path is printed,
    so a newcomer can open the email as a mail client shows it.
    """

    def __init__(self, *args, html_dir: str | Path | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.html_dir = Path(html_dir or settings.EMAIL_CONSOLE_HTML_DIR)

    def write_message(self, message):
        html = next((c for c, mime in message.alternatives if mime == "text/html"), "")
        shown = self.html_write(subject=message.subject, html=html) if html else None
        where = f"HTML part: {shown.as_uri()}" if shown else "(no HTML part)"
        self.stream.write(
            f"From: {message.from_email}\n"
            f"To: {', '.join(message.to)}\n"
            f"Subject: {message.subject}\n"
            f"{where}\n\n"
            f"{message.body}\n"
            f"{'-' * 79}\n"
        )

    def html_write(self, *, subject: str, html: str) -> Path:
        """Write an HTML part to its own file, keeping only the newest ones."""
        self.html_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = self.html_dir / f"{stamp}-{next(_sequence):04d}-{slugify(subject)[:50]}.html"
        path.write_text(html, encoding="utf-8")
        for old in sorted(self.html_dir.glob("*.html"))[:-HTML_KEPT]:
            old.unlink(missing_ok=True)
        return path.resolve()
