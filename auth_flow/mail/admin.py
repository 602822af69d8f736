"""The mail admin: marketing's email-copy editor, and the addresses that bounce."""

import difflib
import hashlib
from http import HTTPStatus

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, OuterRef, QuerySet, Subquery, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.csp import CSP
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_POST
from simple_history.admin import SimpleHistoryAdmin

from auth_flow.i18n import language_is_rtl, language_name
from auth_flow.mail import emails, tasks
from auth_flow.models import EmailCopy, UndeliverableAddress
from auth_flow.protection.ratelimit import Rate, rate_window_count


@admin.register(UndeliverableAddress)
class UndeliverableAddressAdmin(admin.ModelAdmin):
    """Show which addresses the site no longer mails, since when and on whose word."""

    list_display = ["email", "reason", "why", "provider", "event_count", "first_seen", "last_seen"]
    list_filter = ["reason", "provider", "first_seen"]
    search_fields = ["email"]
    readonly_fields = [
        "email",
        "reason",
        "provider",
        "description",
        "event_count",
        "first_seen",
        "last_seen",
    ]

    @admin.display(description=_("Why (the provider's words)"), ordering="description")
    def why(self, obj: UndeliverableAddress) -> str:
        return Truncator(obj.description).chars(80) if obj.description else "—"

    def has_add_permission(self, request) -> bool:
        # Rows come from the provider's webhooks; deleting one re-enables sending.
        return False


class EditConflict(Exception):
    """Someone saved the copy between this save's validation and its write."""


class EmailCopyForm(forms.ModelForm):
    """Edit an email's words; the model's clean() holds the rules, shared with every path."""

    # The version the editor started from; a save from an older one is refused.
    loaded_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    # Previews and test sends show the unsaved text whatever happened meanwhile.
    check_version = True

    class Meta:
        model = EmailCopy
        fields = ["subject", "body", "button"]
        # dir="auto": Arabic copy is typed and shown right to left, English left to right.
        widgets = {
            "subject": forms.TextInput(
                attrs={"class": "vLargeTextField", "autocomplete": "off", "dir": "auto"}
            ),
            "body": forms.Textarea(attrs={"rows": 18, "class": "vLargeTextField", "dir": "auto"}),
            "button": forms.TextInput(attrs={"autocomplete": "off", "dir": "auto"}),
        }
        help_texts = {
            "body": _(
                "Plain text. Leave a blank line between paragraphs; put [button] on its "
                "own line where the button goes."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # From the database, not the instance: reverting starts from an old version's
        # text but must be checked against the current one.
        self.fields["loaded_version"].initial = self._current_version()

    def _current_version(self) -> int | None:
        rows = EmailCopy.objects.filter(pk=self.instance.pk)
        return rows.values_list("version", flat=True).first()

    def clean(self):
        cleaned = super().clean()
        loaded, current = cleaned.get("loaded_version"), self._current_version()
        if self.check_version and loaded and current and loaded != current:
            change = self.instance.history.filter(history_type="~").first()
            who = change.history_user.get_username() if change and change.history_user else ""
            when = timezone.localtime(change.history_date).strftime("%H:%M") if change else ""
            # Carry the current version in the re-rendered form: saving again, having
            # seen this, deliberately replaces the other text (which History keeps).
            self.data = self.data.copy()
            self.data[self.add_prefix("loaded_version")] = current
            if who and when:
                message = gettext(
                    "%(who)s saved a newer version of this email at %(when)s while you were "
                    "editing, so nothing was saved. Your text is still below. Compare it "
                    "with theirs under History, then save again to replace theirs."
                ) % {"who": who, "when": when}
            else:
                message = gettext(
                    "Someone saved a newer version of this email while you were editing, so "
                    "nothing was saved. Your text is still below. Compare it with theirs "
                    "under History, then save again to replace theirs."
                )
            raise ValidationError(message)
        return cleaned

    def _normalized(self, field: str) -> str:
        # Browsers send CRLF from a textarea; store what a person sees.
        return self.cleaned_data[field].replace("\r\n", "\n").replace("\r", "\n")

    def clean_subject(self) -> str:
        return self._normalized("subject")

    def clean_body(self) -> str:
        return self._normalized("body").strip("\n")

    def clean_button(self) -> str:
        return self._normalized("button")


# The preview iframe shows an email's HTML, inline styles and all, and nothing else:
# no script, no network, no navigation, framed only by this site's admin.
PREVIEW_CSP = {
    "default-src": [CSP.NONE],
    "style-src": [CSP.UNSAFE_INLINE],
    "img-src": ["data:"],
    "frame-ancestors": [CSP.SELF],
    "sandbox": True,
}


def copy_test_send_refusal(*, request: HttpRequest) -> str:
    """Count a test send by this editor; say why it may not go if over the rate."""
    # Per staff account, not per IP: each test is a real email, and no editor's session
    # (careless or stolen) may turn the admin into a mailer.
    rate = Rate.parse(settings.RATE_LIMITS["copy_test_send"])
    window = rate_window_count(scope="copy_test_send", key=str(request.user.pk), rate=rate)
    if window.count <= rate.count:
        return ""
    wait = max(1, -(-window.seconds_left // 60))  # rounded up
    period = max(1, rate.seconds // 60)
    allowed = ngettext(
        "You have sent the most test emails allowed: %(count)s in %(period)s minute.",
        "You have sent the most test emails allowed: %(count)s in %(period)s minutes.",
        period,
    ) % {"count": rate.count, "period": period}
    retry = ngettext(
        "This one was not sent; try again in %(wait)s minute. "
        "Meanwhile the preview shows every change.",
        "This one was not sent; try again in %(wait)s minutes. "
        "Meanwhile the preview shows every change.",
        wait,
    ) % {"wait": wait}
    return f"{allowed} {retry}"


def preview_session_key(*, pk: int) -> str:
    return f"email_copy_preview:{pk}"


def copy_diff(*, old: str, new: str) -> list[tuple[str, str]]:
    """List the lines of a unified diff from one text to another, each with its kind."""
    lines = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        kind = {"-": "removed", "+": "added", "@": "gap"}.get(line[:1], "same")
        lines.append((kind, "…" if kind == "gap" else line[1:]))
    return lines


def copy_state(*, copy: EmailCopy, changed_at=None) -> str:
    """Say in a few words which words a language's email goes out in."""
    if copy.edited:
        if changed_at:
            return gettext("Own copy, edited on %(date)s") % {
                "date": date_format(timezone.localtime(changed_at), "j M Y")
            }
        return gettext("Own copy")
    kind = copy.kind
    if kind and kind.shipped(language=copy.language):
        return gettext("Uses the shipped %(language)s default") % {
            "language": language_name(copy.language)
        }
    return gettext("Uses %(language)s copy") % {"language": language_name(settings.LANGUAGE_CODE)}


class LanguageFilter(admin.SimpleListFilter):
    """Filter the copy by language, named in the reader's language."""

    title = _("language")
    parameter_name = "language"

    def lookups(self, request, model_admin):
        return [(code, language_name(code)) for code, _name in settings.LANGUAGES]

    def queryset(self, request, queryset):
        return queryset.filter(language=self.value()) if self.value() else queryset


@admin.register(EmailCopy)
class EmailCopyAdmin(SimpleHistoryAdmin):
    form = EmailCopyForm
    list_display = ["title", "language_shown", "state", "when_sent", "subject", "last_changed"]
    list_display_links = ["title"]
    list_filter = [LanguageFilter]
    actions = ["reset_to_default"]
    change_form_template = "admin/auth_flow/emailcopy/change_form.html"
    object_history_form_template = "admin/auth_flow/emailcopy/object_history_form.html"
    history_list_display = ["subject"]

    # Emails are declared in code (auth_flow.mail.catalog); their rows come from migrate.
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request) -> QuerySet:
        # Changes only: a row created by migrate is the shipped default, not anyone's edit.
        latest = EmailCopy.history.filter(id=OuterRef("pk"), history_type="~").order_by(
            "-history_date"
        )
        # Each email's languages in the order of LANGUAGES, the default language first.
        codes = [
            settings.LANGUAGE_CODE,
            *(c for c, _n in settings.LANGUAGES if c != settings.LANGUAGE_CODE),
        ]
        position = Case(
            *(When(language=code, then=Value(index)) for index, code in enumerate(codes)),
            default=Value(len(codes)),
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_changed_by=Subquery(latest.values("history_user__username")[:1]),
                last_changed_at=Subquery(latest.values("history_date")[:1]),
                language_position=position,
            )
            .order_by("name", "language_position")
        )

    def get_fieldsets(self, request, obj=None):
        kind = obj.kind if obj else None
        fields = ["subject", "body"] + (["button"] if kind and kind.has_button else [])
        fields.append("loaded_version")  # hidden
        return [(None, {"fields": fields, "description": kind.description if kind else ""})]

    @admin.display(description=_("Email"), ordering="name")
    def title(self, obj: EmailCopy) -> str:
        return str(obj.kind.title) if obj.kind else obj.name

    @admin.display(description=_("Language"), ordering="language")
    def language_shown(self, obj: EmailCopy) -> str:
        return obj.language_name

    @admin.display(description=_("Words sent"))
    def state(self, obj: EmailCopy) -> str:
        return copy_state(copy=obj, changed_at=obj.last_changed_at)

    @admin.display(description=_("When it is sent"))
    def when_sent(self, obj: EmailCopy) -> str:
        return (
            obj.kind.description if obj.kind else gettext("No longer sent (not declared in code).")
        )

    @admin.display(description=_("Last changed"), ordering="last_changed_at")
    def last_changed(self, obj: EmailCopy) -> str:
        if not obj.last_changed_at:
            return gettext("Never: the shipped default")
        when = date_format(timezone.localtime(obj.last_changed_at), "j M Y, H:i")
        if obj.last_changed_by:
            return gettext("%(when)s by %(who)s") % {"when": when, "who": obj.last_changed_by}
        return gettext("%(when)s by someone no longer here") % {"when": when}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        copy = self.get_object(request, unquote(object_id))
        if copy is not None and copy.kind is not None:
            extra_context = {**(extra_context or {}), **self._editor_context(request, copy)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _editor_context(self, request: HttpRequest, copy: EmailCopy) -> dict:
        # Every language of this email, with the words it goes out in, so an editor sees
        # at a glance that English was edited while German still has the shipped words.
        siblings = self.get_queryset(request).filter(name=copy.name)
        languages = [
            {
                "name": sibling.language_name,
                "state": copy_state(copy=sibling, changed_at=sibling.last_changed_at),
                "url": reverse("admin:auth_flow_emailcopy_change", args=[sibling.pk]),
                "current": sibling.pk == copy.pk,
            }
            for sibling in siblings
        ]
        # The samples as this language's email shows them ("in 1 Stunde").
        with translation.override(copy.language):
            placeholders = [
                {
                    "written": p.written,
                    "description": str(p.description),
                    "sample": p.sample_value(),
                }
                for p in copy.kind.placeholders
            ]
        return {
            "copy_languages": languages,
            "copy_placeholders": placeholders,
            "copy_language": copy.language,
            "copy_language_name": copy.language_name,
            "copy_direction": "rtl" if language_is_rtl(code=copy.language) else "ltr",
        }

    def save_model(self, request, obj, form, change) -> None:
        loaded = form.cleaned_data["loaded_version"]
        # Compare-and-set: of two saves validated against the same version, only the
        # first to write bumps it; the other is answered by changeform_view below.
        claimed = EmailCopy.objects.filter(pk=obj.pk, version=loaded).update(version=loaded + 1)
        if not claimed:
            raise EditConflict
        obj.version = loaded + 1
        obj.edited = True  # from now on this language's email uses these words
        super().save_model(request, obj, form, change)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except EditConflict:
            # The losing save's transaction rolled back; validating it again now sees
            # the winner's version, and the form says so with the text kept.
            return super().changeform_view(request, object_id, form_url, extra_context)

    # A change of the copy like any save: staff who may only view it cannot run it.
    @admin.action(
        description=_("Reset the selected emails to their shipped default"),
        permissions=["change"],
    )
    def reset_to_default(self, request: HttpRequest, queryset: QuerySet) -> None:
        reset = 0
        for copy in queryset:
            if copy.kind is None:
                continue
            shipped = copy.kind.shipped(language=copy.language) or copy.kind.shipped_default()
            copy.subject, copy.body, copy.button = shipped.subject, shipped.body, shipped.button
            copy.edited = False  # follows the shipped words again as translations change
            # A new version like any save, so the reset itself can be undone; an editor
            # who loaded the copy before the reset is told, not overwritten silently.
            copy.version = F("version") + 1
            copy._history_user = request.user
            copy.save()
            reset += 1
        self.message_user(
            request,
            ngettext(
                "Reset %(count)s email to its shipped default. Its history keeps the "
                "previous copy.",
                "Reset %(count)s emails to their shipped default. Their history keeps the "
                "previous copy.",
                reset,
            )
            % {"count": reset},
            messages.SUCCESS,
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/preview/",
                wrap(self.preview_view),
                name="auth_flow_emailcopy_preview",
            ),
            path(
                "<path:object_id>/preview.html",
                wrap(self.preview_html_view),
                name="auth_flow_emailcopy_preview_html",
            ),
            path(
                "<path:object_id>/send-test/",
                wrap(self.send_test_view),
                name="auth_flow_emailcopy_send_test",
            ),
            *super().get_urls(),
        ]

    def _editable(self, request: HttpRequest, object_id: str) -> EmailCopy:
        copy = self.get_object(request, unquote(object_id))
        if copy is None or copy.kind is None:
            raise Http404(gettext("No such email."))
        if not self.has_change_permission(request, copy):
            raise PermissionDenied
        return copy

    def _unsaved_form(self, request: HttpRequest, copy: EmailCopy) -> forms.ModelForm:
        # Validates the text typed so far against the same rules as a save, on an
        # in-memory instance: nothing reaches the database.
        form = self.get_form(request, copy)(request.POST, instance=copy)
        form.check_version = False
        form.is_valid()
        return form

    @method_decorator(require_POST)
    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Render the unsaved copy with sample values: subject, HTML part and text part."""
        copy = self._editable(request, object_id)
        form = self._unsaved_form(request, copy)
        loaded = form.cleaned_data.get("loaded_version")
        context = {"form": form, "copy": copy, "stale": bool(loaded and loaded != copy.version)}
        if form.is_valid():
            kind = copy.kind
            # In the copy's language: its layout, direction and sample values.
            with translation.override(copy.language):
                rendered = emails.copy_render(
                    kind=kind,
                    subject=copy.subject,
                    body=copy.body,
                    button=copy.button,
                    values=kind.samples(),
                    action_url=settings.SITE_URL + reverse("home"),
                )
            request.session[preview_session_key(pk=copy.pk)] = rendered.html
            version = hashlib.sha256(rendered.html.encode()).hexdigest()[:16]
            context |= {
                "rendered": rendered,
                "html_url": reverse("admin:auth_flow_emailcopy_preview_html", args=[copy.pk])
                + f"?v={version}",
            }
        return TemplateResponse(request, "admin/auth_flow/emailcopy/preview.html", context)

    @method_decorator([require_GET, never_cache, xframe_options_sameorigin])
    @method_decorator(csp_override(PREVIEW_CSP))
    def preview_html_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Serve the HTML part of the last preview, for the sandboxed iframe."""
        copy = self._editable(request, object_id)
        html = request.session.get(preview_session_key(pk=copy.pk))
        if html is None:
            raise Http404(gettext("No preview yet."))
        return HttpResponse(html)

    @method_decorator(require_POST)
    def send_test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Queue the unsaved copy, with sample values, to the staff member's own address."""
        copy = self._editable(request, object_id)
        form = self._unsaved_form(request, copy)
        context = {"form": form, "copy": copy, "to": request.user.email}
        status = HTTPStatus.OK
        if not request.user.email:
            context["problem"] = gettext("Your account has no email address to send a test to.")
            status = HTTPStatus.UNPROCESSABLE_CONTENT
        elif not form.is_valid():
            context["problem"] = gettext("Fix the errors in the copy before sending a test.")
            status = HTTPStatus.UNPROCESSABLE_CONTENT
        elif refusal := copy_test_send_refusal(request=request):
            context["problem"] = refusal
            status = HTTPStatus.TOO_MANY_REQUESTS
        else:
            tasks.copy_test_send.enqueue(
                name=copy.name,
                subject=copy.subject,
                body=copy.body,
                button=copy.button,
                to=request.user.email,
                language=copy.language,
            )
        return TemplateResponse(
            request, "admin/auth_flow/emailcopy/send_test.html", context, status=status
        )

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        current = self.get_object(request, unquote(object_id))
        version = get_object_or_404(
            EmailCopy.history.model, id=unquote(object_id), history_id=unquote(version_id)
        )
        changes = []
        if current is not None:
            for field in ("subject", "body", "button"):
                lines = copy_diff(old=getattr(version, field), new=getattr(current, field))
                if lines:
                    label = EmailCopy._meta.get_field(field).verbose_name
                    changes.append({"field": label, "lines": lines})
        context = {"copy_changes": changes, "version": version, **(extra_context or {})}
        try:
            with transaction.atomic():
                return super().history_form_view(request, object_id, version_id, context)
        except EditConflict:
            with transaction.atomic():
                return super().history_form_view(request, object_id, version_id, context)
