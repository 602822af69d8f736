"""The email copy editor's preview modes: the layout's dark rules, served on for the
preview's dark mode, and the fields in error named for the form to mark."""

from http import HTTPStatus

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from auth_flow.models import EmailCopy

DARK_QUERY = "@media (prefers-color-scheme: dark)"


@pytest.fixture
def reset_copy(db) -> EmailCopy:
    return EmailCopy.objects.get(name="password_reset", language="en")


def form_data(copy: EmailCopy, **changes) -> dict:
    return {
        "subject": copy.subject,
        "body": copy.body,
        "button": copy.button,
        "loaded_version": copy.version,
        **changes,
    }


def preview(client, copy: EmailCopy, **changes) -> str:
    url = reverse("admin:auth_flow_emailcopy_preview", args=[copy.pk])
    response = client.post(url, form_data(copy, **changes), headers={"HX-Request": "true"})
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def frame_url(page: str) -> str:
    return page.split('<iframe src="')[1].split('"')[0].replace("&amp;", "&")


def test_the_layout_says_it_has_light_and_dark_colours():
    html = render_to_string("emails/layout.html", {"blocks": [], "subject": "Hi"})

    assert '<meta name="color-scheme" content="light dark">' in html
    assert '<meta name="supported-color-schemes" content="light dark">' in html
    assert ":root{color-scheme:light dark;" in html
    assert html.count(DARK_QUERY) == 1
    dark = html.split(DARK_QUERY)[1].split("</style>")[0]
    for rule in ("email-bg", "email-card", "email-text", "email-muted", "email-button"):
        assert f".{rule}{{" in dark
    assert "!important" in dark
    assert 'class="email-bg"' in html.split("</head>")[1]  # on the body


def test_the_light_preview_keeps_the_dark_rules_in_their_media_query(marketing_client, reset_copy):
    frame = marketing_client.get(frame_url(preview(marketing_client, reset_copy)))

    body = frame.content.decode()
    assert frame.status_code == HTTPStatus.OK
    assert DARK_QUERY in body
    assert "@media all" not in body


def test_the_dark_preview_has_the_dark_rules_on_unconditionally(marketing_client, reset_copy):
    url = frame_url(preview(marketing_client, reset_copy))
    light = marketing_client.get(url)

    dark = marketing_client.get(url + "&scheme=dark")

    body = dark.content.decode()
    assert dark.status_code == HTTPStatus.OK
    assert DARK_QUERY not in body
    assert "@media all {\n.email-bg{background-color:#111827 !important;}" in body
    assert body == light.content.decode().replace(DARK_QUERY, "@media all")
    # The same sandbox, CSP and caching as the light one.
    for header in ("Content-Security-Policy", "X-Frame-Options", "Cache-Control"):
        assert dark[header] == light[header]
    assert "sandbox" in dark["Content-Security-Policy"]


def test_a_dark_media_query_typed_into_the_copy_stays_text(marketing_client, reset_copy):
    typed = "Say " + DARK_QUERY + " to them."
    url = frame_url(preview(marketing_client, reset_copy, body=reset_copy.body + "\n\n" + typed))

    body = marketing_client.get(url + "&scheme=dark").content.decode()

    assert typed in body  # only the layout's own query is switched on


def test_the_preview_loads_the_colours_last_chosen(marketing_client, reset_copy):
    assert "scheme=dark" not in frame_url(preview(marketing_client, reset_copy))
    page = preview(marketing_client, reset_copy, preview_scheme="dark")
    assert frame_url(page).endswith("&scheme=dark")


def test_the_preview_names_the_fields_in_error(marketing_client, reset_copy):
    page = preview(marketing_client, reset_copy, subject="Hi {{ nope }}", body="No button")

    fields = page.split('class="copy-preview-invalid" data-fields="')[1].split('"')[0]
    assert fields.split() == ["subject", "body"]
    assert 'id="copy-preview-errors"' in page  # what the marked fields are described by


def test_a_valid_preview_names_no_field(marketing_client, reset_copy):
    page = preview(marketing_client, reset_copy)

    assert 'class="copy-preview-invalid" data-fields=""' in page


def test_without_javascript_the_editor_shows_the_saved_draft(marketing_client, reset_copy):
    url = reverse("admin:auth_flow_emailcopy_change", args=[reset_copy.pk])
    marketing_client.post(
        url,
        {
            "subject": "Saved {{ username }}",
            "body": reset_copy.body,
            "button": reset_copy.button,
            "loaded_version": reset_copy.version,
            "_continue": "Save draft",
        },
    )

    page = marketing_client.get(url).content.decode()

    noscript = page.split("<noscript>")[1].split("</noscript>")[0]
    assert "save the draft to see your changes here" in noscript
    assert "Saving does not change the live email." in noscript
    assert "Saved alice" in noscript  # the saved draft, with sample values
    frame = noscript.split('<iframe src="')[1].split('"')[0].replace("&amp;", "&")
    assert "Saved alice" in marketing_client.get(frame).content.decode()
    # The test send is a script's button: hidden where no script shows it.
    assert '<div class="copy-test-send" hidden>' in page
    # Shown by the script only: without it, no preview is loading and no mode applies.
    assert '<p class="copy-preview-loading" hidden>Loading the preview…</p>' in page
    assert '<div class="copy-preview-modes" hidden>' in page
    assert "js/admin-email-copy.js" in page
    # Each placeholder is text to copy, and (with the script) a button that inserts it.
    assert '<code class="copy-placeholder-code">{{ username }}</code>' in page
    assert 'hidden data-insert="{{ username }}" aria-label="Insert {{ username }}"' in page
