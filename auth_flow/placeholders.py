"""Check and fill the `{{ name }}` placeholders of email copy written by non-developers.

Copy is data, never a template: Django's template engine is not safe against untrusted
authors (`{{ user.password }}`, `{% debug %}`, `{% include %}`, filters that build huge
strings), so copy never reaches it. The only syntax is `{{ name }}`, where `name` is one
of the placeholders its email declares, and filling it in is plain string substitution
in a single pass (a value that itself looks like `{{ x }}` stays as typed).
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# A placeholder as written: `{{`, optional spaces, a bare name, optional spaces, `}}`.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# Anything between braces, to name what is wrong with a placeholder that is not one.
BRACED = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
BUTTON = "[button]"
SUBJECT_MAX_LENGTH = 150
BUTTON_MAX_LENGTH = 60
BODY_MAX_LENGTH = 10_000
# Characters that have no business in an email: C0/C1 controls except tab and newline.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Placeholder:
    """Describe one value copy may show, with the sample used in previews and tests."""

    name: str
    description: str
    sample: str

    @property
    def written(self) -> str:
        """Return the placeholder as copy writes it."""
        return f"{{{{ {self.name} }}}}"


def _shown(text: str, *, limit: int = 40) -> str:
    """Quote a piece of copy in an error message, cut short."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_problems(*, text: str, allowed: Iterable[str]) -> list[str]:
    """List what makes a piece of copy unsafe or unreadable as plain text with placeholders."""
    allowed = tuple(allowed)
    listed = ", ".join(f"{{{{ {name} }}}}" for name in allowed) or "none"
    problems = []
    if "{%" in text or "%}" in text:
        problems.append(
            "Remove “{%”: copy is plain text, template tags are not allowed. "
            "Use only {{ name }} placeholders."
        )
    if "{#" in text or "#}" in text:
        problems.append("Remove “{#”: copy is plain text, template comments are not allowed.")
    for match in BRACED.finditer(text):
        placeholder = PLACEHOLDER.fullmatch(match.group(0))
        if placeholder is None or placeholder.group(1) not in allowed:
            problems.append(
                f"“{_shown(match.group(0))}” is not one of this email's placeholders. "
                f"Allowed: {listed}."
            )
    rest = BRACED.sub("", text)
    if "{{" in rest or "}}" in rest:
        problems.append("Unmatched “{{” or “}}”: every placeholder is written {{ name }}.")
    if CONTROL.search(text):
        problems.append("Remove the invisible control characters.")
    return problems


def field_problems(
    *, label: str, text: str, limit: int, one_line: bool, allowed: Iterable[str]
) -> list[str]:
    """List what is wrong with one field of copy: emptiness, length, lines, syntax."""
    problems = []
    if not text.strip():
        problems.append(f"The {label} is empty.")
    if len(text) > limit:
        problems.append(f"The {label} has {len(text)} characters; keep it to {limit}.")
    if one_line and ("\n" in text or "\r" in text):
        problems.append(f"The {label} must be one line.")
    return problems + text_problems(text=text, allowed=allowed)


def copy_problems(
    *, subject: str, body: str, button: str, allowed: Iterable[str], has_button: bool
) -> dict[str, list[str]]:
    """Map each field of an email's copy to what is wrong with it (empty when it is fine)."""
    allowed = tuple(allowed)
    problems = {
        "subject": field_problems(
            label="subject", text=subject, limit=SUBJECT_MAX_LENGTH, one_line=True, allowed=allowed
        ),
        "body": field_problems(
            label="body", text=body, limit=BODY_MAX_LENGTH, one_line=False, allowed=allowed
        ),
        "button": [],
    }
    count = body.count(BUTTON)
    if has_button and count != 1:
        problems["body"].append(
            f"Put {BUTTON} exactly once where the button goes (found {count})."
        )
    if not has_button and count:
        problems["body"].append(f"This email has no button: remove {BUTTON}.")
    if has_button:
        problems["button"] = field_problems(
            label="button label",
            text=button,
            limit=BUTTON_MAX_LENGTH,
            one_line=True,
            allowed=allowed,
        )
    return {field: found for field, found in problems.items() if found}


def value_clean(value: object) -> str:
    """Turn a value into plain, one-line-safe text for an email."""
    return CONTROL.sub("", str(value))


def text_fill(*, text: str, values: Mapping[str, str]) -> str:
    """Replace each `{{ name }}` with its value, in one pass; refuse an undeclared name."""

    def substitute(match: re.Match) -> str:
        # A KeyError here is a bug or a row that skipped validation; the caller falls
        # back to the shipped copy rather than send `{{ name }}` to a customer.
        return value_clean(values[match.group(1)])

    return PLACEHOLDER.sub(substitute, text)
