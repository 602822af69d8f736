import pytest

from auth_flow.email_catalog import EMAIL_KINDS, PASSWORD_RESET, PASSWORD_RESET_UNKNOWN
from auth_flow.placeholders import copy_problems, text_fill

GOOD_BODY = "Hello {{ username }},\n\n[button]\n\nFrom {{ ip }} using {{ browser }}."


def problems_of(*, kind=PASSWORD_RESET, subject="Reset", body=GOOD_BODY, button="Go"):
    return copy_problems(
        subject=subject,
        body=body,
        button=button,
        allowed=kind.placeholder_names,
        has_button=kind.has_button,
    )


@pytest.mark.parametrize("name", list(EMAIL_KINDS))
def test_every_shipped_copy_is_valid(name):
    kind = EMAIL_KINDS[name]
    assert problems_of(kind=kind, subject=kind.subject, body=kind.body, button=kind.button) == {}


def test_good_copy_has_no_problems():
    assert problems_of(subject="{{site_name}}: reset for {{ username }}") == {}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        # Template syntax of any kind: copy is data, never a template.
        ({"body": GOOD_BODY + "\n\n{{ user.password }}"}, "body", "“{{ user.password }}”"),
        ({"body": GOOD_BODY + "\n\n{% debug %}"}, "body", "template tags are not allowed"),
        ({"body": GOOD_BODY + '\n\n{% include "x.html" %}'}, "body", "template tags"),
        ({"body": GOOD_BODY + "\n\n{% load static %}"}, "body", "template tags"),
        ({"body": GOOD_BODY + "\n\n{# note #}"}, "body", "template comments"),
        (
            {"body": GOOD_BODY + '\n\n{{ username|ljust:"200000000" }}'},
            "body",
            "is not one of this email's placeholders",
        ),
        ({"subject": "Hi {{ x|ljust:'200000000' }}"}, "subject", "not one of this email's"),
        ({"subject": "{{ username|upper }}"}, "subject", "not one of this email's"),
        ({"subject": "{{ request }}"}, "subject", "not one of this email's"),
        ({"subject": "{{ settings.SECRET_KEY }}"}, "subject", "not one of this email's"),
        # An unknown name says which are allowed.
        ({"subject": "{{ password }}"}, "subject", "Allowed: {{ username }}, {{ site_name }}"),
        ({"subject": "{{ email }}"}, "subject", "Allowed:"),  # declared by another email
        # Unmatched braces.
        ({"subject": "Hello {{ username"}, "subject", "Unmatched"),
        ({"subject": "Hello username }}"}, "subject", "Unmatched"),
        ({"body": GOOD_BODY + "\n\n{{ {{ ip }} }}"}, "body", "Unmatched"),
        # The button marker.
        (
            {"body": "Hello {{ username }}"},
            "body",
            "Put [button] exactly once where the button goes (found 0).",
        ),
        (
            {"body": GOOD_BODY + "\n\n[button]"},
            "body",
            "Put [button] exactly once where the button goes (found 2).",
        ),
        # Subject rules.
        ({"subject": ""}, "subject", "The subject is empty."),
        ({"subject": "   "}, "subject", "The subject is empty."),
        ({"subject": "x" * 151}, "subject", "has 151 characters; keep it to 150"),
        ({"subject": "Reset\nBcc: victim@example.com"}, "subject", "one line"),
        ({"subject": "Reset\rnow"}, "subject", "one line"),
        # Body and button rules.
        ({"body": ""}, "body", "The body is empty."),
        ({"body": "\n\n  \n"}, "body", "The body is empty."),
        ({"body": "x" * 10_001 + "[button]"}, "body", "keep it to 10000"),
        ({"button": ""}, "button", "The button label is empty."),
        ({"button": "Go\nnow"}, "button", "one line"),
        ({"button": "{{ action_url }}"}, "button", "not one of this email's"),
        ({"body": GOOD_BODY + "\x00"}, "body", "control characters"),
    ],
)
def test_copy_is_refused_with_a_message_naming_the_problem(fields, field, message):
    problems = problems_of(**fields)
    assert field in problems, problems
    assert any(message in problem for problem in problems[field]), problems


def test_the_reset_link_is_never_a_placeholder():
    for kind in EMAIL_KINDS.values():
        assert not {"action_url", "link", "token", "uid", "url"} & set(kind.placeholder_names)


def test_an_email_without_a_button_refuses_the_marker():
    problems = problems_of(kind=PASSWORD_RESET_UNKNOWN, body="Hello {{ email }}\n\n[button]")
    assert problems == {"body": ["This email has no button: remove [button]."]}


def test_filling_is_one_pass_and_values_stay_values():
    text = "Hi {{ username }}, from {{ ip }}"
    values = {"username": "{{ ip }}", "ip": "a\x00b\x1b[31m"}

    assert text_fill(text=text, values=values) == "Hi {{ ip }}, from ab[31m"


def test_filling_an_undeclared_placeholder_fails_loudly():
    with pytest.raises(KeyError):
        text_fill(text="{{ secret }}", values={})
