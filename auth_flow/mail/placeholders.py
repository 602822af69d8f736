"""Check and fill the `{{ name }}` placeholders of email copy written by non-developers.

Copy is data, never a template: Django's template engine is not safe against untrusted
authors (`{{ user.password }}`, `{% debug %}`, `{% include %}`, filters that build huge
strings), so copy never reaches it. The only syntax is `{{ name }}`, where `name` is one
of the placeholders its email declares, and filling it in is plain string substitution
in a single pass (a value that itself looks like `{{ x }}` stays as typed).
"""

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext, ngettext

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
# Invisible characters that change how text reads without showing: bidirectional
# controls (U+202E turns "invoice\u202efdp.exe" into what reads "invoiceexe.pdf"),
# zero-width characters and soft hyphens that hide inside a look-alike name.
BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
INVISIBLE = re.compile(f"[{BIDI}\u00ad\u180e\u200b-\u200d\u2060-\u2064\ufeff]")
# Emoji a zero-width joiner may glue into one (woman + laptop, flag + rainbow):
# pictographs, dingbats and the emoji presentation selector U+FE0F.
EMOJI = re.compile("[\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\ufe0f\U0001f000-\U0001faff]")
# Scripts whose spelling needs the zero-width (non-)joiner inside words: Arabic, Persian
# and the Indic scripts.
JOINING = re.compile(
    "[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\u0900-\u0dff\ufb50-\ufdff\ufe70-\ufefc]"
)

# What an email program turns into a link (Gmail, Apple Mail and Outlook link plain
# text): a scheme, "www.", or a dotted name ending in a top-level domain.
SCHEME = re.compile(
    r"(?<![\w+.-])(?:[a-z][a-z0-9+.-]*://"
    r"|(?:mailto|tel|sms|callto|facetime|skype|sip|xmpp|javascript|data|file|news):(?=\S))",
    re.IGNORECASE,
)
DOTS = ".\uff0e\u3002\uff61"  # the full stop, and those that IDNA reads as one
DOT = f"[{DOTS}]"
WWW = re.compile(rf"(?<![\w-])www\d{{0,3}}{DOT}", re.IGNORECASE)
# A label is letters, digits and inner hyphens, or a placeholder ("{{ site_name }}.com").
LABEL = r"(?:[^\W_](?:[\w-]*[^\W_])?|\{\{\s*[A-Za-z_]\w*\s*\}\})"
DOTTED = re.compile(rf"(?<![\w-]){LABEL}(?:{DOT}{LABEL})+")


def _tlds_load() -> frozenset[str]:
    """Read IANA's list of top-level domains beside this file, in ASCII and Unicode forms.

    The list has internationalized names in their xn-- form; copy writes them in their
    own script ("пример.рф"), so each is also kept decoded, the way labels are compared.
    """
    names = set()
    for line in (Path(__file__).parent / "tlds.txt").read_text(encoding="ascii").splitlines():
        name = line.strip().lower()
        if not name or name.startswith("#"):
            continue
        names.add(name)
        if name.startswith("xn--"):
            names.add(unicodedata.normalize("NFKC", name[4:].encode().decode("punycode")))
    return frozenset(names)


# Every top-level domain in the root zone (tlds.txt says where it is from and how to
# refresh it). ".zip", ".mov", ".app" and ".next" are real: "invoice.zip" is a web address.
TLDS = _tlds_load()
# An IPv4 address written as four numbers (browsers take "203.0.113.7/reset" as an
# address); a version number has fewer parts, and five or more are not an address.
IPV4 = re.compile(rf"(?<![\w{DOTS}-])\d{{1,3}}(?:{DOT}\d{{1,3}}){{3}}(?![\w-]|{DOT}\d)")
# An IPv6 address in brackets, as it stands in a URL: "[2001:db8::1]/reset".
IPV6 = re.compile(r"\[([0-9A-Fa-f:.]+)(?:%[\w.-]+)?\]")
# An international phone number, which phones turn into a link that calls it: "+", then
# at least 7 digits (the shortest numbers with their country code) in spaced groups.
PHONE = re.compile(r"(?<![\w+])\+\(?\d(?:[\d \t\u00a0\u2009\u202f().\-/]*\d)?")
PHONE_DIGITS = 7


@dataclass(frozen=True)
class Placeholder:
    """Describe one value copy may show, with the sample used in previews and tests."""

    name: str
    description: str
    # The value itself, or a function that writes it in the active language.
    sample: "str | Callable[[], str]"

    def sample_value(self) -> str:
        """Return the sample, in the active language."""
        return str(self.sample() if callable(self.sample) else self.sample)

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
    # Translators: said when an email allows no placeholders at all.
    listed = ", ".join(f"{{{{ {name} }}}}" for name in allowed) or gettext("none")
    problems = []
    if "{%" in text or "%}" in text:
        problems.append(
            gettext(
                "Remove “{%”: copy is plain text, template tags are not allowed. "
                "Use only {{ name }} placeholders."
            )
        )
    if "{#" in text or "#}" in text:
        problems.append(
            gettext("Remove “{#”: copy is plain text, template comments are not allowed.")
        )
    for match in BRACED.finditer(text):
        placeholder = PLACEHOLDER.fullmatch(match.group(0))
        if placeholder is None or placeholder.group(1) not in allowed:
            problems.append(
                gettext(
                    "“%(written)s” is not one of this email's placeholders. Allowed: %(allowed)s."
                )
                % {"written": _shown(match.group(0)), "allowed": listed}
            )
    rest = BRACED.sub("", text)
    if "{{" in rest or "}}" in rest:
        problems.append(
            gettext("Unmatched “{{” or “}}”: every placeholder is written {{ name }}.")
        )
    if CONTROL.search(text):
        problems.append(gettext("Remove the invisible control characters."))
    problems += invisible_problems(text=text)
    problems += link_problems(text=INVISIBLE.sub("", text))
    problems += phone_problems(text=INVISIBLE.sub("", text))
    return problems


def _word_at(text: str, start: int, end: int) -> str:
    """Return the run of non-space text around text[start:end], without the punctuation
    that opens or closes it outside that span ("[::1]" stays whole, "(a.com)." is "a.com")."""
    first, last = start, end
    while first > 0 and not text[first - 1].isspace():
        first -= 1
    while last < len(text) and not text[last].isspace():
        last += 1
    before = text[first:start].lstrip("([{\"'\u201c\u2018")
    after = text[end:last].rstrip(".,;:!?)]}\"'\u201d\u2019")
    return before + text[start:end] + after


def invisible_problems(*, text: str) -> list[str]:
    """List the invisible characters in copy, each once, with where it is."""
    problems, seen = [], set()
    for match in INVISIBLE.finditer(text):
        char, at = match.group(), match.start()
        before, after = text[at - 1 : at], text[at + 1 : at + 2]
        if char == "\u200d" and EMOJI.match(before) and EMOJI.match(after):
            continue  # joins an emoji sequence
        if char in "\u200c\u200d" and JOINING.match(before) and JOINING.match(after):
            continue  # inside a word of a script that spells with it
        if char in seen:
            continue
        seen.add(char)
        word = INVISIBLE.sub("", _word_at(text, at, at + 1))
        problems.append(
            # Translators: %(name)s is the character's Unicode name, in English.
            gettext(
                "Remove the invisible character U+%(code)s (%(name)s) in “%(word)s”: "
                "it changes how the text reads without showing itself."
            )
            % {
                "code": f"{ord(char):04X}",
                "name": unicodedata.name(char, "format character").lower(),
                "word": _shown(word),
            }
        )
    return problems


def link_problems(*, text: str) -> list[str]:
    """Say which text email programs would turn into a link, quoting the first of them."""
    found = [m.span() for m in SCHEME.finditer(text)] + [m.span() for m in WWW.finditer(text)]
    for match in DOTTED.finditer(text):
        labels = re.split(DOT, match.group())
        if any(unicodedata.normalize("NFKC", label).casefold() in TLDS for label in labels[1:]):
            found.append(match.span())
    for match in IPV4.finditer(text):
        if all(int(part) <= 255 for part in re.split(DOT, match.group())):
            found.append(match.span())
    for match in IPV6.finditer(text):
        try:
            ipaddress.IPv6Address(match.group(1))
        except ValueError:
            continue
        found.append(match.span())
    if not found:
        return []
    quoted = sorted({_word_at(text, *span) for span in found}, key=text.find)
    values = {"first": _shown(quoted[0]), "more": len(quoted) - 1}
    if len(quoted) == 1:
        message = gettext(
            "Remove “%(first)s”: email programs turn anything that looks like a web or "
            "email address into a link, so copy may not contain one. The email's button "
            "is its only link."
        )
    else:
        message = ngettext(
            "Remove “%(first)s” (and %(more)s more): email programs turn anything that "
            "looks like a web or email address into a link, so copy may not contain one. "
            "The email's button is its only link.",
            "Remove “%(first)s” (and %(more)s more): email programs turn anything that "
            "looks like a web or email address into a link, so copy may not contain one. "
            "The email's button is its only link.",
            values["more"],
        )
    return [message % values]


def phone_problems(*, text: str) -> list[str]:
    """Say which text phones would turn into a link that calls it, quoting the first."""
    found = [
        match.group()
        for match in PHONE.finditer(text)
        if sum(char.isdigit() for char in match.group()) >= PHONE_DIGITS
    ]
    if not found:
        return []
    values = {"first": _shown(found[0]), "more": len(found) - 1}
    if len(found) == 1:
        message = gettext(
            "Remove “%(first)s”: phones turn a phone number into a link that calls it, so "
            "copy may not contain one. The email's button is its only link."
        )
    else:
        message = ngettext(
            "Remove “%(first)s” (and %(more)s more): phones turn a phone number into a "
            "link that calls it, so copy may not contain one. The email's button is its "
            "only link.",
            "Remove “%(first)s” (and %(more)s more): phones turn a phone number into a "
            "link that calls it, so copy may not contain one. The email's button is its "
            "only link.",
            values["more"],
        )
    return [message % values]


def _empty(field: str) -> str:
    return {
        "subject": gettext("The subject is empty."),
        "body": gettext("The body is empty."),
        "button": gettext("The button label is empty."),
    }[field]


def _too_long(field: str, *, length: int, limit: int) -> str:
    values = {"length": length, "limit": limit}
    if field == "subject":
        return (
            ngettext(
                "The subject has %(length)s character; keep it to %(limit)s.",
                "The subject has %(length)s characters; keep it to %(limit)s.",
                length,
            )
            % values
        )
    if field == "body":
        return (
            ngettext(
                "The body has %(length)s character; keep it to %(limit)s.",
                "The body has %(length)s characters; keep it to %(limit)s.",
                length,
            )
            % values
        )
    return (
        ngettext(
            "The button label has %(length)s character; keep it to %(limit)s.",
            "The button label has %(length)s characters; keep it to %(limit)s.",
            length,
        )
        % values
    )


def _not_one_line(field: str) -> str:
    if field == "subject":
        return gettext("The subject must be one line.")
    return gettext("The button label must be one line.")


def field_problems(
    *, field: str, text: str, limit: int, one_line: bool, allowed: Iterable[str]
) -> list[str]:
    """List what is wrong with one field of copy: emptiness, length, lines, syntax."""
    problems = []
    if not text.strip():
        problems.append(_empty(field))
    if len(text) > limit:
        problems.append(_too_long(field, length=len(text), limit=limit))
    if one_line and ("\n" in text or "\r" in text):
        problems.append(_not_one_line(field))
    return problems + text_problems(text=text, allowed=allowed)


def copy_problems(
    *, subject: str, body: str, button: str, allowed: Iterable[str], has_button: bool
) -> dict[str, list[str]]:
    """Map each field of an email's copy to what is wrong with it (empty when it is fine)."""
    allowed = tuple(allowed)
    problems = {
        "subject": field_problems(
            field="subject", text=subject, limit=SUBJECT_MAX_LENGTH, one_line=True, allowed=allowed
        ),
        "body": field_problems(
            field="body", text=body, limit=BODY_MAX_LENGTH, one_line=False, allowed=allowed
        ),
        "button": [],
    }
    count = body.count(BUTTON)
    if has_button and count != 1:
        problems["body"].append(
            gettext("Put [button] exactly once where the button goes (found %(count)s).")
            % {"count": count}
        )
    if not has_button and count:
        problems["body"].append(gettext("This email has no button: remove [button]."))
    if has_button:
        problems["button"] = field_problems(
            field="button",
            text=button,
            limit=BUTTON_MAX_LENGTH,
            one_line=True,
            allowed=allowed,
        )
    return {field: found for field, found in problems.items() if found}


def value_clean(value: object) -> str:
    """Turn a value into plain, one-line-safe text for an email."""
    return INVISIBLE.sub("", CONTROL.sub("", str(value)))


def text_fill(*, text: str, values: Mapping[str, str], isolate: bool = False) -> str:
    """Replace each `{{ name }}` with its value, in one pass; refuse an undeclared name.

    With `isolate`, each value is wrapped in Unicode's first-strong isolate (U+2068 …
    U+2069), so a Latin name or an address inside Arabic text keeps its place.
    """

    def substitute(match: re.Match) -> str:
        # A KeyError here is a bug or a row that skipped validation; the caller falls
        # back to the shipped copy rather than send `{{ name }}` to a customer.
        value = value_clean(values[match.group(1)])
        return f"\u2068{value}\u2069" if isolate else value

    return PLACEHOLDER.sub(substitute, text)
