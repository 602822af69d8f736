"""Check and fill the `{{ name }}` placeholders of email copy written by non-developers.

Copy is data, never a template: Django's template engine is not safe against untrusted
authors (`{{ user.password }}`, `{% debug %}`, `{% include %}`, filters that build huge
strings), so copy never reaches it. The only syntax is `{{ name }}`, where `name` is one
of the placeholders its email declares, and filling it in is plain string substitution
in a single pass (a value that itself looks like `{{ x }}` stays as typed).

The body may also link to the company's own hosts (`link_hosts`), written
`[text](https://host/path)`: found in the copy before it is filled, checked strictly here
and made into links by `auth_flow.mail.emails`. Any other address-like text is refused.
"""

import contextlib
import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.text import get_text_list
from django.utils.translation import gettext, ngettext

# A placeholder as written: `{{`, optional spaces, a bare name, optional spaces, `}}`.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# Anything between braces, to name what is wrong with a placeholder that is not one.
BRACED = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
BUTTON = "[button]"
SUBJECT_MAX_LENGTH = 150
# Inboxes show about 40 to 130 characters of it after the subject.
PREHEADER_MAX_LENGTH = 150
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

# A link as the body writes it, on one line: [text](address). "[button]" is the button's
# place, never a link's text; an address holds no parentheses, so "(a)(b)" is not one.
LINK_MARKUP = re.compile(r"\[(?!button\])([^\[\]\r\n]*)\]\(([^()\r\n]*)\)")
# The characters an address may hold as written (RFC 3986 without quotes, brackets and
# parentheses); "%" only as the start of an escape, "#" only once.
URL_CHARS = re.compile(r"[A-Za-z0-9\-._~!$&*+,;=:@/?#%]")
PERCENT_BAD = re.compile(r"%(?![0-9A-Fa-f]{2})")
URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# A host name and an optional port, as an address's authority writes them.
NETLOC = re.compile(r"([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d*))?")


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


def text_problems(*, text: str, allowed: Iterable[str], links: bool = False) -> list[str]:
    """List what makes a piece of copy unsafe or unreadable as plain text with placeholders.

    With `links` (the body), [text](https://…) links to the allowed hosts are fine.
    """
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
    if links:
        problems += copy_link_problems(text=text)
        # The rest is checked with each link's text in its place: the text shows, the
        # address is checked above.
        text = LINK_MARKUP.sub(lambda match: f" {match.group(1)} ", text)
    problems += link_problems(text=INVISIBLE.sub("", text), links=links)
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


def link_problems(*, text: str, links: bool = False) -> list[str]:
    """Say which text email programs would turn into a link, quoting the first of them.

    `links` says whether the field may hold [text](https://…) links (the body does), so
    the message says where links go and to which hosts.
    """
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
    # A link written [text](…) where none may be (the subject, the button) is quoted whole.
    markups = list(LINK_MARKUP.finditer(text))

    def quote(start: int, end: int) -> str:
        markup = next((m for m in markups if m.start() <= start < m.end()), None)
        return markup.group() if markup else _word_at(text, start, end)

    quoted = sorted({quote(*span) for span in found}, key=text.find)
    values = {"first": _shown(quoted[0]), "more": len(quoted) - 1, "hosts": _hosts_shown()}
    if links and len(quoted) == 1:
        message = gettext(
            "Remove “%(first)s”: email programs turn anything that looks like a web or "
            "email address into a link. Links may only point to %(hosts)s, written as "
            "[text](https://…)."
        )
    elif links:
        message = ngettext(
            "Remove “%(first)s” (and %(more)s more): email programs turn anything that "
            "looks like a web or email address into a link. Links may only point to "
            "%(hosts)s, written as [text](https://…).",
            "Remove “%(first)s” (and %(more)s more): email programs turn anything that "
            "looks like a web or email address into a link. Links may only point to "
            "%(hosts)s, written as [text](https://…).",
            values["more"],
        )
    elif len(quoted) == 1:
        message = gettext(
            "Remove “%(first)s”: email programs turn anything that looks like a web or "
            "email address into a link, and the subject and the button label may not "
            "contain one. Links go in the body, written as [text](https://…), and may "
            "only point to %(hosts)s."
        )
    else:
        message = ngettext(
            "Remove “%(first)s” (and %(more)s more): email programs turn anything that "
            "looks like a web or email address into a link, and the subject and the "
            "button label may not contain one. Links go in the body, written as "
            "[text](https://…), and may only point to %(hosts)s.",
            "Remove “%(first)s” (and %(more)s more): email programs turn anything that "
            "looks like a web or email address into a link, and the subject and the "
            "button label may not contain one. Links go in the body, written as "
            "[text](https://…), and may only point to %(hosts)s.",
            values["more"],
        )
    return [message % values]


def link_hosts() -> tuple[str, ...]:
    """Return the hosts copy may link to: SITE_URL's, then EMAIL_COPY_LINK_HOSTS, each once."""
    hosts = [urlsplit(settings.SITE_URL).hostname or "", *settings.EMAIL_COPY_LINK_HOSTS]
    return tuple(dict.fromkeys(host.strip().lower() for host in hosts if host.strip()))


def _hosts_shown() -> str:
    """Name the hosts copy may link to, as a list in the active language ("a, b or c")."""
    return str(get_text_list(list(link_hosts()), gettext("or")))


@dataclass(frozen=True)
class CopyLink:
    """One [text](address) link in a paragraph of copy, as written (text unfilled)."""

    text: str
    url: str


def links_split(text: str) -> list["str | CopyLink"]:
    """Cut a piece of copy into its plain text and its [text](address) links, in order."""
    pieces: list[str | CopyLink] = []
    position = 0
    for match in LINK_MARKUP.finditer(text):
        if match.start() > position:
            pieces.append(text[position : match.start()])
        pieces.append(CopyLink(text=match.group(1), url=match.group(2)))
        position = match.end()
    if position < len(text):
        pieces.append(text[position:])
    return pieces


def _char_shown(char: str) -> str:
    """Write a character for an error message: itself, or its code point when it hides."""
    if char.isprintable() and not char.isspace():
        return char
    return f"U+{ord(char):04X}"


def _link_url_fault(url: str) -> tuple[str, dict[str, str]] | None:
    """Name what is wrong with a link's address, and what to say about it, or None."""
    if "{{" in url or "}}" in url:
        return "placeholder", {}
    scheme = URL_SCHEME.match(url)
    name = scheme.group(1).lower() if scheme else ""
    if name == "http":
        return "http", {}
    if name != "https" or not url[len(scheme.group()) :].startswith("//"):
        return "not_web", {}
    authority = re.split(r"[/?#]", url[len("https://") :], maxsplit=1)[0]
    if not authority.isascii() and "@" not in authority:
        with contextlib.suppress(UnicodeError):
            written = authority.encode("idna").decode("ascii")
            if NETLOC.fullmatch(written):
                return "unicode_host", {"written": written}
    bad = [char for char in url if not URL_CHARS.fullmatch(char)]
    if not bad and PERCENT_BAD.search(url):
        bad = ["%"]  # not the start of an escape
    if not bad and url.count("#") > 1:
        bad = ["#"]
    if bad:
        return "char", {"char": _char_shown(bad[0])}
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError:
        return "not_web", {}
    if "@" in parts.netloc:
        return "userinfo", {}
    # After the host too: "https://passage.example#@evil.com" opens the site but reads as
    # a link to evil.com in the text part. The site's own links never need one.
    if "@" in url:
        return "char", {"char": "@"}
    netloc = NETLOC.fullmatch(parts.netloc)
    if netloc is None:
        return "not_web", {}
    host, port = netloc.group(1).lower(), netloc.group(2)
    if port is not None and port != "443":
        return "port", {"port": port}
    if host not in link_hosts():
        return "host", {"host": host}
    return None


def link_url_problem(url: str) -> str | None:
    """Say what is wrong with the address of a [text](address) link, or None if nothing.

    Strict on purpose: an https address on one of the allowed hosts, written in ASCII
    (an international name in its xn-- form), with no user name, port or placeholder.
    Every message ends by saying where links may point.
    """
    fault = _link_url_fault(url)
    if fault is None:
        return None
    kind, extra = fault
    messages = {
        "placeholder": gettext(
            "The link “%(url)s” has a placeholder in its address: write the address out "
            "in full (placeholders may go in the link's text). Links may only point to "
            "%(hosts)s, written as [text](https://…)."
        ),
        "http": gettext(
            "The link “%(url)s” starts with http://, which is not secure: write https://. "
            "Links may only point to %(hosts)s, written as [text](https://…)."
        ),
        "not_web": gettext(
            "The link “%(url)s” is not a web address. Links may only point to %(hosts)s, "
            "written as [text](https://…)."
        ),
        "unicode_host": gettext(
            "The link “%(url)s” writes its host in letters outside ASCII: write it as "
            "%(written)s. Links may only point to %(hosts)s, written as [text](https://…)."
        ),
        "char": gettext(
            "The link “%(url)s” contains “%(char)s”, which an address cannot hold as "
            "written. Links may only point to %(hosts)s, written as [text](https://…)."
        ),
        "userinfo": gettext(
            "The link “%(url)s” has a name and “@” before its host, which hides where it "
            "goes. Links may only point to %(hosts)s, written as [text](https://…)."
        ),
        "port": gettext(
            "The link “%(url)s” names a port (“:%(port)s”): remove it. Links may only "
            "point to %(hosts)s, written as [text](https://…)."
        ),
        "host": gettext(
            "The link “%(url)s” points to %(host)s. Links may only point to %(hosts)s, "
            "written as [text](https://…)."
        ),
    }
    return messages[kind] % {"url": _shown(url, limit=60), "hosts": _hosts_shown(), **extra}


def copy_link_problems(*, text: str) -> list[str]:
    """List what is wrong with the [text](address) links of a body, once each."""
    problems = []
    for piece in links_split(text):
        if not isinstance(piece, CopyLink):
            continue
        if not piece.text.strip():
            problems.append(
                gettext("The link to “%(url)s” has no text: write it as [text](https://…).")
                % {"url": _shown(piece.url, limit=60)}
            )
        if problem := link_url_problem(piece.url):
            problems.append(problem)
    return list(dict.fromkeys(problems))


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
            "copy may not contain one."
        )
    else:
        message = ngettext(
            "Remove “%(first)s” (and %(more)s more): phones turn a phone number into a "
            "link that calls it, so copy may not contain one.",
            "Remove “%(first)s” (and %(more)s more): phones turn a phone number into a "
            "link that calls it, so copy may not contain one.",
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
    if field == "preheader":
        return (
            ngettext(
                "The preview text has %(length)s character; keep it to %(limit)s.",
                "The preview text has %(length)s characters; keep it to %(limit)s.",
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
    if field == "preheader":
        return gettext("The preview text must be one line.")
    return gettext("The button label must be one line.")


def field_problems(
    *,
    field: str,
    text: str,
    limit: int,
    one_line: bool,
    allowed: Iterable[str],
    links: bool = False,
) -> list[str]:
    """List what is wrong with one field of copy: emptiness, length, lines, syntax.

    With `links` (the body), [text](https://…) links to the allowed hosts are fine.
    """
    problems = []
    if not text.strip():
        problems.append(_empty(field))
    if len(text) > limit:
        problems.append(_too_long(field, length=len(text), limit=limit))
    if one_line and ("\n" in text or "\r" in text):
        problems.append(_not_one_line(field))
    return problems + text_problems(text=text, allowed=allowed, links=links)


def copy_problems(
    *,
    subject: str,
    body: str,
    button: str,
    allowed: Iterable[str],
    has_button: bool,
    preheader: str = "",
) -> dict[str, list[str]]:
    """Map each field of an email's copy to what is wrong with it (empty when it is fine)."""
    allowed = tuple(allowed)
    problems = {
        "subject": field_problems(
            field="subject", text=subject, limit=SUBJECT_MAX_LENGTH, one_line=True, allowed=allowed
        ),
        "body": field_problems(
            field="body",
            text=body,
            limit=BODY_MAX_LENGTH,
            one_line=False,
            allowed=allowed,
            links=True,
        ),
        "button": [],
        # Optional: an empty one lets the inbox show the body's first words.
        "preheader": field_problems(
            field="preheader",
            text=preheader,
            limit=PREHEADER_MAX_LENGTH,
            one_line=True,
            allowed=allowed,
        )
        if preheader
        else [],
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
