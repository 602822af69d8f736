from django.contrib.auth.tokens import PasswordResetTokenGenerator


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Make one-time links that confirm a new account's address.

    Django's reset-token machinery with its own salt (a reset token never verifies, nor
    the reverse) and hashed over the address and the account's state: activating the
    account, or changing its address, spends every link made before. Links expire after
    PASSWORD_RESET_TIMEOUT, like reset links.
    """

    key_salt = "auth_flow.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.email_canonical}{user.is_active}{user.password}{timestamp}"


email_verification_token = EmailVerificationTokenGenerator()
