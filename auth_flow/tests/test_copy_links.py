"""Links in email copy: [text](https://…) in the body, to the company's own hosts only."""

import runpy

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils import translation

from auth_flow.mail import emails
from auth_flow.mail.catalog import PASSWORD_RESET
from auth_flow.mail.emails import copy_render, email_render
from auth_flow.models import EmailCopy

HOSTS = "Links may only point to passage.example or help.example.com"
ACTION_URL = "https://passage.example/accounts/reset/MQ/abc-123/"


@pytest.fixture(autouse=True)
def link_hosts(settings):
    """The site at passage.example, and one more host of the company's listed."""
    settings.SITE_URL = "https://passage.example"
    settings.EMAIL_COPY_LINK_HOSTS = ["help.example.com"]
    return settings


def body_with(text: str) -> str:
    return f"Hello {{{{ username }}}},\n\n[button]\n\n{text}"


def problems_of(*, body: str = "", subject: str = "Reset", button: str = "Go"):
    return PASSWORD_RESET.problems(subject=subject, body=body or body_with("Bye."), button=button)


def render(text: str, **values):
    return copy_render(
        kind=PASSWORD_RESET,
        subject="Reset",
        body=body_with(text),
        button="Choose a new password",
        values={**PASSWORD_RESET.samples(), "username": "alice", **values},
        action_url=ACTION_URL,
    )


# What is accepted --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "See [our help pages](https://passage.example/help).",
        "See [our help pages](https://help.example.com/).",
        "[Help](https://help.example.com)",
        "[Help](https://passage.example/help?topic=reset&lang=en#steps)",
        "[Help](https://passage.example/caf%C3%A9)",
        "[Help](https://PASSAGE.example/help)",  # a host name's case does not matter
        "[Help](https://passage.example:443/help)",  # the default port, written out
        "[Help for {{ username }}](https://passage.example/help)",
        "Read [the guide](https://passage.example/guide) and [the FAQ](https://help.example.com/faq).",
    ],
)
def test_links_to_the_sites_host_and_listed_hosts_are_accepted(text):
    assert problems_of(body=body_with(text)) == {}


def test_the_site_alone_is_allowed_when_no_host_is_listed(link_hosts):
    link_hosts.EMAIL_COPY_LINK_HOSTS = []

    assert problems_of(body=body_with("[Help](https://passage.example/help)")) == {}
    (problem,) = problems_of(body=body_with("[Help](https://help.example.com/)"))["body"]
    assert "Links may only point to passage.example, written as [text](https://…)." in problem


def test_several_listed_hosts_are_named_as_a_list(link_hosts):
    link_hosts.EMAIL_COPY_LINK_HOSTS = ["help.example.com", "status.example.org"]

    (problem,) = problems_of(body=body_with("[x](https://evil.com)"))["body"]

    assert "Links may only point to passage.example, help.example.com or status.example.org" in (
        problem
    )


# What is refused, always saying where links may point ------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Hosts that are not the company's, however close.
        ("[x](https://evil.com/help)", "“https://evil.com/help” points to evil.com."),
        ("[x](https://www.passage.example/)", "points to www.passage.example."),  # not listed
        ("[x](https://docs.help.example.com/)", "points to docs.help.example.com."),
        ("[x](https://example.com/)", "points to example.com."),  # the listed one's parent
        ("[x](https://passage.example.evil.com)", "points to passage.example.evil.com."),
        ("[x](https://evil.com#passage.example)", "points to evil.com."),
        ("[x](https://passage.example#@evil.com)", "contains “@”"),
        ("[x](https://passage.example/?to=@evil.com)", "contains “@”"),
        ("[x](https://evil.com?next=passage.example)", "points to evil.com."),
        ("[x](https://passage.example./)", "is not a web address"),  # a trailing dot
        # A user name before the host: this one goes to evil.com.
        ("[x](https://passage.example@evil.com)", "has a name and “@” before its host"),
        ("[x](https://user:pw@passage.example/)", "has a name and “@” before its host"),
        # https only, on its own port.
        ("[x](http://passage.example/help)", "starts with http://, which is not secure"),
        ("[x](HTTP://passage.example/help)", "starts with http://, which is not secure"),
        ("[x](https://passage.example:8443/help)", "names a port (“:8443”)"),
        ("[x](https://passage.example:80/)", "names a port (“:80”)"),
        ("[x](https://passage.example:/)", "names a port"),
        ("[x](https://passage.example:99999/)", "is not a web address"),
        # Not web addresses at all.
        ("[x](javascript:alert%281%29)", "“javascript:alert%281%29” is not a web address"),
        ("[x](JavaScript:void%200)", "is not a web address"),
        ("[x](data:text/html;base64,PGI+aGk8L2I+)", "is not a web address"),
        ("[x](mailto:help@passage.example)", "is not a web address"),
        ("[x](//passage.example/help)", "is not a web address"),
        ("[x](/help)", "is not a web address"),
        ("[x](https:/passage.example/help)", "is not a web address"),
        ("[x](https:passage.example)", "is not a web address"),
        ("[x]()", "is not a web address"),
        ("[x](ftp://passage.example/file)", "is not a web address"),
        # Placeholders stay out of addresses (they may go in the link's text).
        ("[x](https://passage.example/u/{{ username }})", "has a placeholder in its address"),
        ("[x](https://{{ site_name }}.example/)", "has a placeholder in its address"),
        # Characters an address cannot hold as written.
        ("[x](https://passage.example/a b)", "contains “U+0020”"),
        ("[x](https://passage.example/a\tb)", "contains “U+0009”"),
        ('[x](https://passage.example/"onmouseover=x)', 'contains “"”'),
        ("[x](https://passage.example/'x)", "contains “'”"),
        ("[x](https://passage.example/<script>)", "contains “<”"),
        ("[x](https://passage.example\\@evil.com)", "contains “\\”"),
        ("[x](https://passage.example/\\evil.com)", "contains “\\”"),
        ("[x](https://passage.example/a\x7fb)", "contains “U+007F”"),
        ("[x](https://passage.example/caf\u00e9)", "contains “\u00e9”"),
        ("[x](https://passage.example/%zz)", "contains “%”"),
        ("[x](https://passage.example/a#b#c)", "contains “#”"),
        ("[x](https://[::1]/)", "contains “[”"),
        ("[x](https://passage.example/a`b)", "contains “`”"),
        # A host in letters outside ASCII, look-alikes included: only its xn-- form.
        (
            "[x](https://p\u00e4ssage.example/)",
            "writes its host in letters outside ASCII: write it as xn--pssage-bua.example.",
        ),
        (
            "[x](https://p\u0430ssage.example/)",  # a Cyrillic a
            "writes its host in letters outside ASCII: write it as xn--pssage-3nf.example.",
        ),
        (
            "[x](https://passage\uff0eexample/)",  # a fullwidth full stop
            "writes its host in letters outside ASCII: write it as passage.example.",
        ),
    ],
)
def test_a_link_that_is_not_to_an_allowed_host_is_refused(text, message):
    problems = problems_of(body=body_with(text))["body"]

    assert any(message in p and HOSTS in p for p in problems), problems


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        # Written as bare addresses rather than [text](https://…): email programs would
        # link them on their own, with no say over where.
        ("Help: https://passage.example/help", "“https://passage.example/help”"),
        ("Help: https://evil.com", "“https://evil.com”"),
        ("Visit www.passage.example", "“www.passage.example”"),
        ("Visit help.example.com", "“help.example.com”"),
        ("Write to help@example.com", "“help@example.com”"),
        ("Run javascript:alert(1)", "“javascript:alert(1"),
        ("Open data:text/html,hi", "“data:text/html,hi”"),
        # A link's text that is an address of its own would show one place and go to
        # another.
        ("[evil.com](https://passage.example/)", "“evil.com”"),
        ("[https://evil.com](https://passage.example/)", "“https://evil.com”"),
        # Not a link as written (an address with parentheses, a space before them).
        ("[x](javascript:alert(1))", "javascript:alert(1"),
        ("[x] (https://passage.example/help)", "https://passage.example/help"),
    ],
)
def test_any_other_address_like_text_is_refused_naming_the_allowed_hosts(text, quoted):
    problems = problems_of(body=body_with(text))["body"]

    assert any(
        quoted in p
        and "email programs turn anything that looks like a web or email address into a link" in p
        and f"{HOSTS}, written as [text](https://…)." in p
        for p in problems
    ), problems


def test_a_link_needs_its_text(link_hosts):
    problems = problems_of(body=body_with("[ ](https://passage.example/help)"))["body"]

    assert problems == [
        "The link to “https://passage.example/help” has no text: write it as [text](https://…)."
    ]


def test_each_bad_link_is_named_once():
    text = "[a](https://evil.com) and [b](https://evil.com) and [c](http://passage.example)"

    problems = problems_of(body=body_with(text))["body"]

    assert len(problems) == 2, problems
    assert "points to evil.com" in problems[0]
    assert "starts with http://" in problems[1]


@pytest.mark.parametrize("field", ["subject", "button"])
@pytest.mark.parametrize(
    "text",
    ["See [help](https://passage.example/help)", "See https://passage.example/help"],
)
def test_links_stay_refused_in_the_subject_and_the_button_label(field, text):
    (problem,) = problems_of(**{field: text})[field]

    assert "the subject and the button label may not contain one" in problem
    assert "Links go in the body, written as [text](https://…)" in problem
    assert "may only point to passage.example or help.example.com." in problem


def test_a_link_in_the_subject_is_quoted_whole():
    (problem,) = problems_of(subject="See [help](https://passage.example/help)")["subject"]

    assert problem.startswith("Remove “[help](https://passage.example/help)”:")


def test_the_allowed_hosts_are_listed_in_the_active_language():
    with translation.override("de"):
        problems = problems_of(body=body_with("[x](https://evil.com)"))["body"]

    # Joined as Django joins its own lists ("a, b oder c"), not with an English "or".
    assert any("passage.example oder help.example.com" in p for p in problems), problems


# Rendering ---------------------------------------------------------------------------


def test_a_link_becomes_a_link_in_the_html_part_and_text_with_its_address_in_the_text_part():
    rendered = render("Questions? See [our help pages](https://help.example.com/reset).")

    assert (
        'Questions? See <a href="https://help.example.com/reset" class="email-link" '
        'style="color:#0d6efd;text-decoration:underline;">our help pages</a>.'
    ) in rendered.html
    assert "Questions? See our help pages (https://help.example.com/reset)." in rendered.text
    assert "[our help pages]" not in rendered.text + rendered.html
    # The button and its link are the layout's, as before.
    assert f'<a href="{ACTION_URL}"' in rendered.html
    assert f"Choose a new password:\n{ACTION_URL}" in rendered.text


def test_several_links_in_a_paragraph_keep_their_order_and_their_text():
    rendered = render(
        "Read [the guide](https://passage.example/g) or [the FAQ](https://help.example.com/f)."
    )

    assert (
        "Read the guide (https://passage.example/g) or the FAQ (https://help.example.com/f)."
        in (rendered.text)
    )
    assert rendered.html.index(">the guide</a>") < rendered.html.index(">the FAQ</a>")


def test_an_ampersand_in_the_address_is_escaped_in_the_html_part_only():
    rendered = render("[Help](https://passage.example/help?topic=reset&lang=en)")

    assert 'href="https://passage.example/help?topic=reset&amp;lang=en"' in rendered.html
    assert "&lang=en" not in rendered.html
    assert "Help (https://passage.example/help?topic=reset&lang=en)" in rendered.text


def test_the_links_text_is_escaped_and_its_values_isolated():
    rendered = render(
        'Say "hi" & [open <b>{{ username }}</b>\'s page](https://passage.example/me).',
        username='<img src=x onerror="alert(1)">',
    )

    assert 'Say &quot;hi&quot; &amp; <a href="https://passage.example/me"' in rendered.html
    assert (
        ">open &lt;b&gt;<bdi>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</bdi>"
        "&lt;/b&gt;&#x27;s page</a>."
    ) in rendered.html
    assert "<img" not in rendered.html
    assert (
        'open <b><img src=x onerror="alert(1)"></b>\'s page (https://passage.example/me).'
    ) in rendered.text


def test_quotes_and_angle_brackets_in_an_address_could_not_break_out_of_href():
    # Validation refuses such an address; the HTML part would escape it all the same.
    block = emails._paragraph(
        text='[x](https://passage.example/"><script>&)', values={}, rtl=False
    )

    assert block["text_html"] == (
        '<a href="https://passage.example/&quot;&gt;&lt;script&gt;&amp;" class="email-link" '
        'style="color:#0d6efd;text-decoration:underline;">x</a>'
    )


def test_a_value_never_becomes_a_link_a_paragraph_or_the_button():
    rendered = render(
        "Bye {{ username }}.",
        username="[x](https://passage.example/)\n\n[button] https://evil.com",
    )

    assert rendered.html.count("<a ") == 3  # the button, its address shown, the footer
    assert "[x](https://passage.example/)" in rendered.text
    # The value's "[button]" is text: the button stays where the copy puts it.
    assert rendered.text.index("https://evil.com") < rendered.text.index("Choose a new password:")


def test_copy_that_does_not_validate_is_never_rendered():
    with pytest.raises(ValidationError, match=r"points to evil\.com"):
        render("[x](https://evil.com)")


# Arabic: "Read", "the help page", "for more information.", "Hello".
READ = "\u0627\u0642\u0631\u0623"
HELP_PAGE = "\u0635\u0641\u062d\u0629 \u0627\u0644\u0645\u0633\u0627\u0639\u062f\u0629"
MORE = (
    "\u0644\u0645\u0632\u064a\u062f \u0645\u0646 "
    "\u0627\u0644\u0645\u0639\u0644\u0648\u0645\u0627\u062a."
)
HELLO = "\u0645\u0631\u062d\u0628\u0627"


def test_a_right_to_left_email_keeps_its_links_readable():
    with translation.override("ar"):
        rendered = copy_render(
            kind=PASSWORD_RESET,
            subject=HELLO,
            body=(
                f"{HELLO} {{{{ username }}}}\n\n[button]\n\n"
                f"{READ} [{HELP_PAGE}](https://help.example.com/reset/) {MORE}"
            ),
            button=READ,
            values={**PASSWORD_RESET.samples(), "username": "alice"},
            action_url=ACTION_URL,
        )

    assert '<html lang="ar" dir="rtl">' in rendered.html
    assert (
        f'{READ} <a href="https://help.example.com/reset/" class="email-link" '
        f'style="color:#0d6efd;text-decoration:underline;">{HELP_PAGE}</a> {MORE}'
    ) in rendered.html
    # The text part reads right to left; the address, in its parentheses, left to right
    # (the "/)" at its end would otherwise show at its start).
    assert (
        f"\u200f{READ} {HELP_PAGE} \u2068(https://help.example.com/reset/)\u2069 {MORE}"
    ) in rendered.text
    assert f"\u200f{HELLO} \u2068alice\u2069" in rendered.text


def test_a_saved_copy_with_a_link_goes_out_with_it(db):
    EmailCopy.objects.filter(name="password_reset", language="en").update(
        body=body_with("Stuck? [Ask us](https://help.example.com/contact)."), edited=True
    )

    rendered = email_render(
        name="password_reset", values=PASSWORD_RESET.samples(), action_url=ACTION_URL
    )

    assert '<a href="https://help.example.com/contact"' in rendered.html
    assert "Stuck? Ask us (https://help.example.com/contact)." in rendered.text


# The setting -------------------------------------------------------------------------


@pytest.fixture
def environ(monkeypatch):
    monkeypatch.setenv("DJANGO_SECRET_KEY", "a-real-secret")
    monkeypatch.setenv("EMAIL_PROVIDER", "console")
    monkeypatch.delenv("DJANGO_DEBUG", raising=False)
    monkeypatch.delenv("EMAIL_COPY_LINK_HOSTS", raising=False)
    return monkeypatch


def load_settings() -> dict:
    return runpy.run_path(str(django_settings.BASE_DIR / "site_config" / "settings.py"))


def test_no_host_is_listed_by_default(environ):
    assert load_settings()["EMAIL_COPY_LINK_HOSTS"] == []


def test_the_listed_hosts_are_read_comma_separated_stripped_and_lower_cased(environ):
    environ.setenv("EMAIL_COPY_LINK_HOSTS", " Help.Example.com, ,status.example.org ,")

    assert load_settings()["EMAIL_COPY_LINK_HOSTS"] == ["help.example.com", "status.example.org"]


@pytest.mark.parametrize(
    "value", ["https://help.example.com", "help.example.com/", "h\u00e9lp.example", "a b"]
)
def test_a_listed_host_that_is_not_a_host_name_fails_loudly(environ, value):
    environ.setenv("EMAIL_COPY_LINK_HOSTS", value)

    with pytest.raises(ImproperlyConfigured, match="EMAIL_COPY_LINK_HOSTS"):
        load_settings()
