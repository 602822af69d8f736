"""The one-time token of a sign-up's confirmation link."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare


class SignupConfirmTokenGenerator(PasswordResetTokenGenerator):
    """Make the link that confirms a pending sign-up's address.

    Django's reset-token HMAC with its own salt (a reset token never confirms, nor the
    reverse), over the pending row: confirming deletes the row, and with it every link
    made for it. The link's age is the row's, checked against SIGNUP_CONFIRM_TIMEOUT
    when it is used (`PendingSignup.expired`), not against PASSWORD_RESET_TIMEOUT.
    """

    key_salt = "auth_flow.tokens.SignupConfirmTokenGenerator"

    def _make_hash_value(self, pending, timestamp):
        return (
            f"{pending.pk}{pending.email_canonical}{pending.username}{pending.password}{timestamp}"
        )

    def _timestamp(self, pending) -> int:
        return self._num_seconds(pending.created_at.replace(tzinfo=None, microsecond=0))

    def make_token(self, pending) -> str:
        return self._make_token_with_timestamp(pending, self._timestamp(pending), self.secret)

    def check_token(self, pending, token) -> bool:
        if not (pending and token) or pending.expired:
            return False
        timestamp = self._timestamp(pending)
        return any(
            constant_time_compare(
                self._make_token_with_timestamp(pending, timestamp, secret), token
            )
            for secret in [self.secret, *self.secret_fallbacks]
        )


signup_confirm_token = SignupConfirmTokenGenerator()
