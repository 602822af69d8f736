"""A scripted email backend that fails on cue, for the retry tests."""

import smtplib
from collections import deque

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend


class ScriptedBackend(BaseEmailBackend):
    """Fail each send with the next scripted error, then deliver to mail.outbox."""

    script: deque = deque()
    attempts = 0

    @classmethod
    def reset(cls, *errors: BaseException) -> None:
        cls.script = deque(errors)
        cls.attempts = 0

    def send_messages(self, messages):
        type(self).attempts += 1
        if self.script:
            raise self.script.popleft()
        mail.outbox.extend(messages)
        return len(messages)


def transient_error() -> BaseException:
    return smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def permanent_error(address: str) -> BaseException:
    return smtplib.SMTPRecipientsRefused({address: (550, b"5.1.1 No such mailbox")})
