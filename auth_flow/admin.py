"""Register the admin of each concern (importing the modules registers their models)."""

from auth_flow.accounts import admin as accounts_admin  # noqa: F401
from auth_flow.mail import admin as mail_admin  # noqa: F401
