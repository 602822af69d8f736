"""Decide each person's language and time zone, and let them choose a language.

The order, first that applies: a `?lang=` carried by a link in one of our emails, the
account's saved choice, this browser's choice (Django's language cookie), the browser's
Accept-Language, then LANGUAGE_CODE. The last three are Django's LocaleMiddleware; this
module puts the first two in front. The latest explicit choice wins: a choice made
before logging in is saved to the account at log-in, otherwise log-in applies the
account's.
"""

import zoneinfo
from functools import cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

# Set when someone picks a language while logged out, so log-in saves it to the account
# instead of applying the account's older choice.
CHOSEN_KEY = "language_chosen"
# The query parameter our emails' links carry: the page opens in the email's language.
LINK_PARAMETER = "lang"
TIME_ZONE_FIELD = "time_zone"


def language_code_clean(code: object) -> str:
    """Return a code from LANGUAGES for what a client sent, or "" if it names none."""
    if not isinstance(code, str) or len(code) > 15:
        return ""
    code = code.strip().lower().replace("_", "-")
    return code if code in dict(settings.LANGUAGES) else ""


def time_zone_clean(name: object) -> str:
    """Return a time zone name that zoneinfo knows for what a client sent, or ""."""
    if not isinstance(name, str) or not 0 < len(name) <= 64 or name != name.strip():
        return ""
    return name if name in _time_zones() else ""


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def language_is_rtl(*, code: str) -> bool:
    """Say whether a language is written right to left."""
    return translation.get_language_info(code)["bidi"]


def language_name(code: str) -> str:
    """Name a language in the active language ("German"; "Allemand" in French)."""
    try:
        return translation.get_language_info(code)["name_translated"]
    except KeyError:
        return code


def language_menu(request: HttpRequest) -> dict:
    """Give every template the active language, its direction and the language menu."""
    current = translation.get_language() or settings.LANGUAGE_CODE
    return {
        "language_dir": "rtl" if translation.get_language_bidi() else "ltr",
        "language_current": translation.get_language_info(current)["name_local"],
        # Back to this page, without a link's ?lang= (which would win over the choice).
        "language_next": _without_link_language(request.get_full_path()),
        "language_choices": [
            {"code": code, "name": translation.get_language_info(code)["name_local"]}
            for code, _ in settings.LANGUAGES
        ],
        # The words site.js says and shows, in this page's language.
        "script_strings": {
            "formErrors": gettext("The form has errors."),
            "sessionChanged": gettext("Your session has changed. Reload the page and try again."),
            "requestFailed": gettext("Something went wrong (%(status)s). Please try again."),
            "notSent": gettext(
                "The request could not be sent. Check your connection and try again."
            ),
            "show": gettext("Show"),
            "showPassword": gettext("Show password"),
        },
    }


def _without_link_language(path: str) -> str:
    parts = urlsplit(path)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != LINK_PARAMETER
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


class AccountLanguageMiddleware:
    """Put a link's language, then the account's saved language, before the browser's.

    After LocaleMiddleware (which read the cookie and Accept-Language) and
    AuthenticationMiddleware. Views marked `browser_language_only` never read the
    session (see PasswordRulesView); the cookie set here keeps them in the account's
    language anyway.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        wanted = getattr(request, "_language_remember", "")
        cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if wanted and cookie != wanted:
            language_cookie_set(response=response, code=wanted)
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        linked = language_code_clean(request.GET.get(LINK_PARAMETER))
        if linked:
            request._language_remember = linked
            language_activate(request=request, code=linked)
            return
        if getattr(view_func, "browser_language_only", False):
            return
        user = getattr(request, "user", None)
        saved = language_code_clean(getattr(user, "language", "")) if user else ""
        if saved:
            request._language_remember = saved
            language_activate(request=request, code=saved)


def language_activate(*, request: HttpRequest, code: str) -> None:
    """Make a language the one this request answers in."""
    translation.activate(code)
    request.LANGUAGE_CODE = translation.get_language()


def language_cookie_set(*, response: HttpResponse, code: str) -> None:
    """Remember a language in this browser (Django's own cookie, read by LocaleMiddleware)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def browser_language_only(view):
    """Mark a view that must not read the session (nor so the account's language)."""
    view.browser_language_only = True
    return view


@require_POST
def language_choose(request: HttpRequest) -> HttpResponse:
    """Switch the language: Django's set_language, and the account's saved choice too."""
    response = set_language(request)
    code = language_code_clean(request.POST.get("language"))
    if not code:
        return response  # Django's view ignores an unknown language; so does this one
    user = request.user
    if user.is_authenticated:
        if user.language != code:
            user.language = code
            user.save(update_fields=["language"])
    else:
        request.session[CHOSEN_KEY] = code
    request._language_remember = code
    return response


@receiver(user_logged_in, dispatch_uid="auth_flow.language_at_login")
def language_at_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """Save a choice made before logging in, and the browser's time zone, to the account."""
    if request is None or not hasattr(user, "language"):
        return
    changed = []
    chosen = language_code_clean(request.session.pop(CHOSEN_KEY, ""))
    if chosen and chosen != user.language:
        user.language = chosen
        changed.append("language")
    zone = time_zone_clean(request.POST.get(TIME_ZONE_FIELD)) if request.method == "POST" else ""
    if zone and zone != user.time_zone:
        user.time_zone = zone
        changed.append("time_zone")
    if changed:
        user.save(update_fields=changed)
    if user.language:
        language_activate(request=request, code=user.language)
        request._language_remember = user.language
