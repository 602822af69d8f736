"""The local email backend: each email printed whole, its links clickable."""

from django.core.mail.backends import console


class ReadableConsoleBackend(console.EmailBackend):
    """Print each email as a person reads it: headers, then the plain-text part.

    Django's console backend prints the raw MIME message, where quoted-printable
    encoding breaks long reset links across lines; locally the link must be clickable.
    """

    def write_message(self, message):
        html = next((c for c, mime in message.alternatives if mime == "text/html"), "")
        self.stream.write(
            f"From: {message.from_email}\n"
            f"To: {', '.join(message.to)}\n"
            f"Subject: {message.subject}\n"
            f"(plus an HTML part of {len(html)} characters)\n\n"
            f"{message.body}\n"
            f"{'-' * 79}\n"
        )
