"""The HTML email fits a phone-width window whatever the copy and values hold."""

from playwright.sync_api import Page

from auth_flow.mail.catalog import PASSWORD_RESET
from auth_flow.mail.emails import copy_render


def test_a_long_unbroken_word_wraps_instead_of_widening_the_email(page: Page, settings):
    # A 400-character "username" made the email 4,357 px wide in a mail client.
    values = {**PASSWORD_RESET.samples(), "username": "x" * 400}
    rendered = copy_render(
        kind=PASSWORD_RESET,
        subject=PASSWORD_RESET.subject,
        body=PASSWORD_RESET.body,
        button=PASSWORD_RESET.button,
        values=values,
        action_url=settings.SITE_URL + "/accounts/reset/MQ/token/",
    )
    page.set_viewport_size({"width": 600, "height": 800})

    page.set_content(rendered.html)

    assert page.evaluate("document.documentElement.scrollWidth") <= 600
