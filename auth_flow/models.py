from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    """Hold an account whose email address is unique whatever its case."""

    email = models.EmailField("email address", max_length=254)

    objects = UserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_ci_unique",
                violation_error_message="An account with this email address already exists.",
            ),
        ]

    def clean(self):
        super().clean()
        self.email = type(self).objects.normalize_email(self.email)


class UndeliverableAddress(models.Model):
    """Remember an address the provider reported as bouncing or complaining.

    The worker sends nothing more to it; delete the row in the admin to send again.
    """

    class Reason(models.TextChoices):
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Marked as spam"
        REJECTED = "rejected", "Rejected by the provider"

    email = models.EmailField(unique=True, max_length=254)
    reason = models.CharField(max_length=20, choices=Reason)
    provider = models.CharField(max_length=40)
    description = models.CharField(max_length=500, blank=True)
    event_count = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_reason_display()})"
