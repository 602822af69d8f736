"""The mail admin: marketing's email-copy editor, and the addresses that bounce."""

import difflib
import hashlib
from datetime import timedelta
from http import HTTPStatus

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
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
from auth_flow.mail.catalog import EMAIL_KINDS
from auth_flow.mail.publishing import (
    EditConflict,
    copy_draft_discard,
    copy_draft_from,
    copy_draft_save,
    copy_is_shipped_default,
    copy_publish,
    copy_publish_schedule,
    copy_reset_words,
)
from auth_flow.models import (
    COPY_FIELDS,
    CopyPublication,
    EmailCopy,
    SentEmail,
    UndeliverableAddress,
)
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


# The submit button that schedules publishing instead of publishing now.
SCHEDULE_BUTTON = "_schedule"


def schedule_supported() -> bool:
    """Say whether the task backend can run a task later (an in-process one cannot)."""
    from auth_flow.mail.tasks import copy_publish_scheduled

    return copy_publish_scheduled.get_backend().supports_defer


class EmailCopyForm(forms.ModelForm):
    """Edit an email's words; the model's clean() holds the rules, shared with every path."""

    # The version the editor started from; a save from an older one is refused.
    loaded_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    # When the worker is to publish the draft, in the admin's time zone.
    publish_at = forms.DateTimeField(
        label=_("Publish at"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    # Recorded with the version when the text is published; shown in History.
    publish_note = forms.CharField(
        label=_("Note for the history (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "dir": "auto", "size": 40}),
    )
    # Previews and test sends show the unsaved text whatever happened meanwhile.
    check_version = True

    class Meta:
        model = EmailCopy
        fields = ["subject", "preheader", "body", "button"]
        # dir="auto": Arabic copy is typed and shown right to left, English left to right.
        widgets = {
            "subject": forms.TextInput(
                attrs={"class": "vLargeTextField", "autocomplete": "off", "dir": "auto"}
            ),
            "preheader": forms.TextInput(
                attrs={"class": "vLargeTextField", "autocomplete": "off", "dir": "auto"}
            ),
            "body": forms.Textarea(attrs={"rows": 18, "class": "vLargeTextField", "dir": "auto"}),
            "button": forms.TextInput(attrs={"autocomplete": "off", "dir": "auto"}),
        }
        help_texts = {
            "preheader": _(
                "Optional. What the inbox shows after the subject, before the email is "
                "opened; hidden in the email itself. One line, placeholders allowed."
            ),
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
        if not self.is_bound and self.instance.has_draft:
            # The editor continues the draft; live emails keep the published words.
            self.initial.update(self.instance.draft_words)

    def _current_version(self) -> int | None:
        rows = EmailCopy.objects.filter(pk=self.instance.pk)
        return rows.values_list("version", flat=True).first()

    def clean_publish_at(self):
        at = self.cleaned_data.get("publish_at")
        if SCHEDULE_BUTTON not in self.data:
            return None
        if not schedule_supported():
            # An in-process task backend would publish at once, not at the time chosen.
            # For the whole form: this field is not even shown then.
            self.add_error(
                None, gettext("Publishing at a chosen time needs the email worker's queue.")
            )
            return None
        if at is None:
            raise ValidationError(gettext("Choose when to publish the draft."))
        now = timezone.now()
        if at <= now + timedelta(minutes=1):
            raise ValidationError(gettext("Choose a time at least a minute from now."))
        if at > now + timedelta(days=366):
            raise ValidationError(gettext("Choose a time within a year."))
        return at

    def clean(self):
        cleaned = super().clean()
        loaded, current = cleaned.get("loaded_version"), self._current_version()
        if self.check_version and loaded and current and loaded != current:
            who, when = copy_last_writer(pk=self.instance.pk)
            # Carry the current version in the re-rendered form: saving again, having
            # seen this, deliberately replaces the other text (which History keeps).
            self.data = self.data.copy()
            self.data[self.add_prefix("loaded_version")] = current
            if who and when:
                message = gettext(
                    "%(who)s changed this email at %(when)s while you were editing, so "
                    "nothing was saved. Your text is still below. Open the email in a new "
                    "tab to see theirs, then save again to replace it."
                ) % {"who": who, "when": moment_show(when)}
            else:
                message = gettext(
                    "Someone changed this email while you were editing, so nothing was "
                    "saved. Your text is still below. Open the email in a new tab to see "
                    "theirs, then save again to replace it."
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

    def clean_preheader(self) -> str:
        return self._normalized("preheader").strip()


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


def preview_session_key(*, pk: int, saved: bool = False) -> str:
    # The saved text's preview (no JavaScript) apart from the live preview of typing.
    return f"email_copy_preview:{pk}" + (":saved" if saved else "")


def copy_diff(*, old: str, new: str) -> list[tuple[str, str]]:
    """List the lines of a unified diff from one text to another, each with its kind."""
    lines = []
    # Every line, kept ones included: a reader sees the whole text, never a fragment.
    lines_total = max(len(old.splitlines()), len(new.splitlines()))
    for line in difflib.unified_diff(
        old.splitlines(), new.splitlines(), lineterm="", n=lines_total
    ):
        if line.startswith(("---", "+++")):
            continue
        kind = {"-": "removed", "+": "added", "@": "gap"}.get(line[:1], "same")
        lines.append((kind, "…" if kind == "gap" else line[1:]))
    return lines


def moment_show(value) -> str:
    """Write a moment in the admin's one date format, with its time zone."""
    local = timezone.localtime(value)
    return f"{date_format(local, 'j M Y, H:i')} {local.tzname()}"


def copy_last_writer(*, pk: int) -> tuple[str, object]:
    """Name who last wrote a row (a draft or a publish), and when, or ("", None)."""
    copy = EmailCopy.objects.filter(pk=pk).select_related("draft_by").first()
    version = EmailCopy.history.filter(id=pk).select_related("history_user").first()
    candidates = []
    if copy and copy.has_draft and copy.draft_at:
        candidates.append((copy.draft_at, copy.draft_by))
    if version:
        candidates.append((version.history_date, version.history_user))
    if not candidates:
        return "", None
    when, user = max(candidates, key=lambda pair: pair[0])
    return (user.get_username() if user else ""), when


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


def language_order() -> list[str]:
    """List the language codes as every email page shows them: the default one first."""
    return [
        settings.LANGUAGE_CODE,
        *(code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE),
    ]


def language_position(code: str) -> int:
    """Place a language code in language_order(); unknown codes last."""
    order = language_order()
    return order.index(code) if code in order else len(order)


def copy_draft_state(*, copy: EmailCopy) -> str:
    """Say whether a draft waits to be published, by whom and since when, or ""."""
    if not copy.has_draft:
        return ""
    who = copy.draft_by.get_username() if copy.draft_by else ""
    when = moment_show(copy.draft_at) if copy.draft_at else ""
    if copy.publish_at:
        return gettext("Draft by %(who)s, %(when)s, to be published at %(at)s") % {
            "who": who or "—",
            "when": when or "—",
            "at": moment_show(copy.publish_at),
        }
    if who and when:
        return gettext("Draft by %(who)s, %(when)s, not published") % {"who": who, "when": when}
    return gettext("Draft, not published")


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
    # When each email is sent is on the overview; the list stays narrow enough to read.
    list_display = ["title", "language_shown", "state", "draft", "subject", "last_changed"]
    list_display_links = ["title"]
    list_filter = [LanguageFilter]
    actions = ["reset_to_default"]
    change_form_template = "admin/auth_flow/emailcopy/change_form.html"
    object_history_template = "admin/auth_flow/emailcopy/object_history.html"
    object_history_form_template = "admin/auth_flow/emailcopy/object_history_form.html"

    # Emails are declared in code (auth_flow.mail.catalog); their rows come from migrate.
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request) -> QuerySet:
        # Changes only: a row created by migrate is the shipped default, not anyone's edit.
        latest = (
            EmailCopy.history.filter(id=OuterRef("pk"))
            .exclude(publish_kind=CopyPublication.Kind.SHIPPED)
            .order_by("-history_date")
        )
        codes = language_order()
        position = Case(
            *(When(language=code, then=Value(index)) for index, code in enumerate(codes)),
            default=Value(len(codes)),
        )
        # Not super(): it orders by get_ordering(), which names this annotation.
        return (
            self.model._default_manager.get_queryset()
            .annotate(
                last_changed_by=Subquery(latest.values("history_user__username")[:1]),
                last_changed_at=Subquery(latest.values("history_date")[:1]),
                language_position=position,
            )
            .select_related("draft_by")
            .order_by("name", "language_position")
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": gettext("Choose an email to edit"), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def get_ordering(self, request):
        # The model's ordering would sort languages by code; the default language first.
        return ["name", "language_position"]

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("auth_flow.publish_emailcopy")

    def get_fieldsets(self, request, obj=None):
        kind = obj.kind if obj else None
        fields = ["subject", "preheader", "body"] + (
            ["button"] if kind and kind.has_button else []
        )
        fields.append("loaded_version")  # hidden
        return [(None, {"fields": fields, "description": kind.description if kind else ""})]

    @admin.display(description=_("Email"), ordering="name")
    def title(self, obj: EmailCopy) -> str:
        return str(obj.kind.title) if obj.kind else obj.name

    @admin.display(description=_("Language"), ordering="language")
    def language_shown(self, obj: EmailCopy) -> str:
        return obj.language_name

    @admin.display(description=_("Goes out in"))
    def state(self, obj: EmailCopy) -> str:
        return copy_state(copy=obj, changed_at=obj.last_changed_at)

    @admin.display(description=_("Draft"))
    def draft(self, obj: EmailCopy) -> str:
        return copy_draft_state(copy=obj) or "—"

    @admin.display(description=_("Last changed"), ordering="last_changed_at")
    def last_changed(self, obj: EmailCopy) -> str:
        if not obj.last_changed_at:
            return gettext("Never: the shipped default")
        when = moment_show(obj.last_changed_at)
        if obj.last_changed_by:
            return gettext("%(when)s by %(who)s") % {"when": when, "who": obj.last_changed_by}
        return gettext("%(when)s by someone no longer here") % {"when": when}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        copy = self.get_object(request, unquote(object_id))
        if copy is not None and copy.kind is not None:
            extra_context = {
                "title": gettext("Edit an email")
                if self.has_change_permission(request, copy)
                else gettext("Read an email"),
                **(extra_context or {}),
                **self._editor_context(request, copy),
            }
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
        # What each placeholder is, in the editor's language; its sample, in the email's.
        with translation.override(copy.language):
            samples = [p.sample_value() for p in copy.kind.placeholders]
        placeholders = [
            {"written": p.written, "description": str(p.description), "sample": sample}
            for p, sample in zip(copy.kind.placeholders, samples, strict=True)
        ]
        return {
            "copy_noscript_preview": self._noscript_preview(request, copy),
            "copy_draft_state": copy_draft_state(copy=copy),
            "can_publish": self.has_publish_permission(request),
            "can_schedule": self.has_publish_permission(request) and schedule_supported(),
            "time_zone_name": timezone.localtime().tzname(),
            # How far the admin's zone is ahead of UTC, for the page's local-time hint.
            "time_zone_offset_minutes": int(timezone.localtime().utcoffset().total_seconds())
            // 60,
            # Colleagues' addresses only for those who may send a test.
            "copy_test_recipients": copy_test_recipients()
            if self.has_change_permission(request, copy)
            else [],
            "copy_languages": languages,
            "copy_placeholders": placeholders,
            "copy_language": copy.language,
            "copy_language_name": copy.language_name,
            "copy_direction": "rtl" if language_is_rtl(code=copy.language) else "ltr",
        }

    def _noscript_preview(self, request: HttpRequest, copy: EmailCopy) -> dict | None:
        """Render the saved draft (or the live copy) for browsers without JavaScript."""
        if not self.has_change_permission(request, copy):
            return None
        words = copy.draft_words
        try:
            with translation.override(copy.language):
                rendered = emails.copy_render(
                    kind=copy.kind,
                    **words,
                    values=copy.kind.samples(),
                    action_url=settings.SITE_URL + reverse("email_link_sample"),
                )
        except ValidationError:
            return None  # a row the rules refuse: the form says why
        key = preview_session_key(pk=copy.pk, saved=True)
        request.session[key] = rendered.html
        version = hashlib.sha256(rendered.html.encode()).hexdigest()[:16]
        url = reverse("admin:auth_flow_emailcopy_preview_html", args=[copy.pk])
        return {"rendered": rendered, "html_url": f"{url}?saved=1&v={version}"}

    def save_model(self, request, obj, form, change) -> None:
        # Saving writes a draft; "Publish" makes the text live. Both compare-and-set on
        # the version, so of two saves validated against one version only the first
        # writes; the other is answered by changeform_view below.
        words = {field: form.cleaned_data.get(field, getattr(obj, field)) for field in COPY_FIELDS}
        loaded = form.cleaned_data["loaded_version"]
        if SCHEDULE_BUTTON in request.POST:
            if not self.has_publish_permission(request):
                raise PermissionDenied
            scheduled = copy_publish_schedule(
                copy=obj,
                loaded_version=loaded,
                words=words,
                user=request.user,
                at=form.cleaned_data["publish_at"],
                note=form.cleaned_data.get("publish_note", ""),
            )
            obj._outcome = "scheduled" if scheduled else "same"
            obj._publish_at = form.cleaned_data["publish_at"]
        elif "_publish" in request.POST:
            if not self.has_publish_permission(request):
                raise PermissionDenied
            copy_publish(
                copy=obj,
                loaded_version=loaded,
                words=words,
                user=request.user,
                note=form.cleaned_data.get("publish_note", ""),
            )
            obj._outcome = "published"
        else:
            drafted = copy_draft_save(
                copy=obj, loaded_version=loaded, words=words, user=request.user
            )
            obj._outcome = "drafted" if drafted else "same"
            # obj is the row as this request found it: a schedule it had is now off.
            obj._called_off = obj.publish_at if obj.has_draft else None

    def save_related(self, request, form, formsets, change) -> None:
        # The copy has no relations; the row was written by save_model's update.
        pass

    def response_change(self, request, obj):
        outcome = getattr(obj, "_outcome", "")
        if outcome == "scheduled":
            message = gettext(
                "Scheduled: the draft will be published at %(when)s. Saving, publishing or "
                "discarding the draft before then calls it off."
            ) % {"when": moment_show(obj._publish_at)}
            self.message_user(request, message, messages.SUCCESS)
            return HttpResponseRedirect(request.path)
        if outcome == "published":
            message = gettext(
                "Published. From now on every “%(email)s” email uses this text; History "
                "keeps the previous version."
            )
        elif outcome == "drafted":
            message = (
                gettext(
                    "Draft saved. Live emails still use the published text until the draft "
                    "is published."
                )
                if self.has_publish_permission(request)
                else gettext(
                    "Draft saved. Live emails still use the published text until someone "
                    "who may publish publishes it."
                )
            )
        else:
            message = gettext("The text is the same as the published text, so there is no draft.")
        self.message_user(request, message % {"email": obj}, messages.SUCCESS)
        if called_off := getattr(obj, "_called_off", None):
            self.message_user(
                request,
                gettext("This called off the publishing that was scheduled for %(when)s.")
                % {"when": moment_show(called_off)},
                messages.WARNING,
            )
        return HttpResponseRedirect(request.path)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and "_discard" in request.POST and object_id:
            return self._discard(request, object_id)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except EditConflict:
            # The losing save's transaction rolled back; validating it again now sees
            # the winner's version, and the form says so with the text kept.
            return super().changeform_view(request, object_id, form_url, extra_context)

    def _discard(self, request: HttpRequest, object_id: str) -> HttpResponse:
        copy = self._editable(request, object_id)
        try:
            loaded = int(request.POST.get("loaded_version", ""))
            copy_draft_discard(copy=copy, loaded_version=loaded)
        except (ValueError, EditConflict):
            self.message_user(
                request,
                gettext(
                    "Someone changed this email while you had it open, so the draft was not "
                    "discarded. Here is the email as it is now."
                ),
                messages.WARNING,
            )
        else:
            self.message_user(
                request,
                gettext("Draft discarded. The editor shows the published text again."),
                messages.SUCCESS,
            )
        return HttpResponseRedirect(request.path)

    # Makes a draft like any edit: staff who may only view the copy cannot run it.
    @admin.action(
        description=_("Start again from the shipped default (makes drafts to publish)"),
        permissions=["change"],
    )
    def reset_to_default(self, request: HttpRequest, queryset: QuerySet):
        copies = [copy for copy in queryset if copy.kind is not None]
        already = [copy for copy in copies if copy_is_shipped_default(copy=copy)]
        if already:
            self.message_user(request, copy_already_default(copies=already), messages.INFO)
            copies = [copy for copy in copies if copy not in already]
        if not copies:
            return None
        if request.POST.get("confirmed") != "yes":
            return self._reset_confirmation(request, copies, action=True)
        changed = [copy for copy in copies if not self._reset(request, copy)]
        copies = [copy for copy in copies if copy not in changed]
        if changed:
            self.message_user(request, copy_changed_meanwhile(copies=changed), messages.WARNING)
        if not copies:
            return None
        self.message_user(
            request,
            ngettext(
                "Made a draft of the shipped default for %(count)s email. Review it and "
                "publish it to make it live.",
                "Made drafts of the shipped default for %(count)s emails. Review them and "
                "publish them to make them live.",
                len(copies),
            )
            % {"count": len(copies)},
            messages.SUCCESS,
        )
        return None

    def _reset(self, request: HttpRequest, copy: EmailCopy) -> bool:
        """Make the shipped-default draft, if the email is as the confirmation showed it."""
        try:
            copy_draft_from(
                copy=copy,
                loaded_version=_posted_version(request, key=f"version_{copy.pk}"),
                words=copy_reset_words(copy=copy),
                kind=CopyPublication.Kind.RESET,
                note=gettext("Reset to the shipped default"),
                user=request.user,
            )
        except EditConflict:
            return False
        return True

    def _reset_confirmation(self, request, copies, *, action: bool) -> TemplateResponse:
        return self._page(
            request,
            "admin/auth_flow/emailcopy/reset_confirm.html",
            {
                "title": gettext("Start again from the shipped default?"),
                "copies": copies,
                "action": action,
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            },
        )

    def reset_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Ask, then make a draft of the shipped default for one email."""
        copy = self._editable(request, object_id)
        editor = reverse("admin:auth_flow_emailcopy_change", args=[copy.pk])
        if copy_is_shipped_default(copy=copy):
            self.message_user(request, copy_already_default(copies=[copy]), messages.INFO)
            return HttpResponseRedirect(editor)
        if request.method != "POST":
            return self._reset_confirmation(request, [copy], action=False)
        if not self._reset(request, copy):
            self.message_user(request, copy_changed_meanwhile(copies=[copy]), messages.WARNING)
            return self._reset_confirmation(request, [copy], action=False)
        self.message_user(
            request,
            gettext(
                "Made a draft of the shipped default. Review it and publish it to make it live."
            ),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:auth_flow_emailcopy_change", args=[copy.pk]))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        # The editor's own views, each named auth_flow_emailcopy_<name>.
        views = {
            "preview": ("<path:object_id>/preview/", self.preview_view),
            "preview_html": ("<path:object_id>/preview.html", self.preview_html_view),
            "send_test": ("<path:object_id>/send-test/", self.send_test_view),
            "reset": ("<path:object_id>/reset/", self.reset_view),
            "editing": ("<path:object_id>/editing/", self.editing_view),
        }
        return [
            path("overview/", wrap(self.overview_view), name="auth_flow_emailcopy_overview"),
            *(
                path(route, wrap(view), name=f"auth_flow_emailcopy_{name}")
                for name, (route, view) in views.items()
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

    def _readable(self, request: HttpRequest, object_id: str) -> EmailCopy:
        copy = self.get_object(request, unquote(object_id))
        if copy is None:
            raise Http404(gettext("No such email."))
        if not self.has_view_or_change_permission(request, copy):
            raise PermissionDenied
        return copy

    def _page(self, request: HttpRequest, template: str, context: dict) -> TemplateResponse:
        """Render one of the email pages beyond the editor, inside the admin's frame."""
        frame = {**self.admin_site.each_context(request), "opts": self.opts}
        return TemplateResponse(request, template, frame | context)

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
                    preheader=copy.preheader,
                    values=kind.samples(),
                    action_url=settings.SITE_URL + reverse("email_link_sample"),
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
        saved = request.GET.get("saved") == "1"
        html = request.session.get(preview_session_key(pk=copy.pk, saved=saved))
        if html is None:
            raise Http404(gettext("No preview yet."))
        if request.GET.get("scheme") == "dark":
            # An iframe's prefers-color-scheme follows the admin page, not the editor's
            # choice: turn the layout's dark rules on as a client in dark mode would. Only
            # the layout's own, in its style sheet: copy (the <title> before it, the body
            # after) is escaped text and can never open a <style> of its own.
            head, style, rest = html.partition("<style>")
            html = (
                head + style + rest.replace("@media (prefers-color-scheme: dark)", "@media all", 1)
            )
        return HttpResponse(html)

    @method_decorator(require_POST)
    def send_test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Queue the unsaved copy, with sample values, to a colleague who works on emails."""
        copy = self._editable(request, object_id)
        form = self._unsaved_form(request, copy)
        recipients = copy_test_recipients()
        chosen = request.POST.get("test_to", str(request.user.pk))[:20]
        to = next((r.email for r in recipients if str(r.pk) == chosen), "")
        context = {"form": form, "copy": copy, "to": to}
        status = HTTPStatus.OK
        if not to:
            # Never an arbitrary address: an editor's session must not become a mailer.
            context["problem"] = gettext(
                "Choose someone from the list: tests go only to active staff who can see "
                "the emails and have an email address."
            )
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
                preheader=copy.preheader,
                to=to,
                language=copy.language,
            )
        return TemplateResponse(
            request, "admin/auth_flow/emailcopy/send_test.html", context, status=status
        )

    @method_decorator([require_POST, never_cache])
    def editing_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Note that this editor has the email open; name the others who have it open."""
        copy = self._editable(request, object_id)
        others = copy_editors_note(pk=copy.pk, user=request.user)
        return TemplateResponse(
            request, "admin/auth_flow/emailcopy/editing.html", {"others": others}
        )

    def overview_view(self, request: HttpRequest) -> HttpResponse:
        """Show every email: whether it is sent, its copy and drafts, sends and bounces."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return self._page(
            request,
            "admin/auth_flow/emailcopy/overview.html",
            {
                "title": gettext("Emails at a glance"),
                "emails": copy_overview(),
            },
        )

    def history_view(self, request, object_id, extra_context=None):
        """List the published versions, with who, when, kind and note, and compare two."""
        copy = self._readable(request, object_id)
        versions = copy_versions(copy=copy)
        by_number = {v.number: v for v in versions}
        latest = versions[-1].number if versions else 0

        def chosen(name: str, default: int) -> int:
            try:
                number = int(request.GET.get(name, default))
            except ValueError:
                return default
            return number if number in by_number else default

        older, newer = chosen("from", max(latest - 1, 1)), chosen("to", latest)
        changes = copy_changes(old=by_number[older], new=by_number[newer]) if versions else []
        return self._page(
            request,
            self.object_history_template,
            {
                "original": copy,
                "title": gettext("History of “%(email)s”") % {"email": copy},
                "versions": list(reversed(versions)),
                "compare_from": older,
                "compare_to": newer,
                "copy_changes": changes,
                "copy_draft_state": copy_draft_state(copy=copy),
                "can_change": self.has_change_permission(request, copy),
                **(extra_context or {}),
            },
        )

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """Show one version in full, and make a draft from it (review, then publish)."""
        copy = self._readable(request, object_id)
        versions = copy_versions(copy=copy)
        version = next((v for v in versions if str(v.history_id) == unquote(version_id)), None)
        if version is None:
            raise Http404(gettext("No such version."))
        if request.method == "POST":
            if not self.has_change_permission(request, copy):
                raise PermissionDenied
            try:
                copy_draft_from(
                    copy=copy,
                    loaded_version=_posted_version(request, key="loaded_version"),
                    words={field: getattr(version, field, "") for field in COPY_FIELDS},
                    kind=CopyPublication.Kind.REVERT,
                    note=gettext("Back to version %(number)s") % {"number": version.number},
                    user=request.user,
                )
            except EditConflict:
                self.message_user(request, copy_changed_meanwhile(copies=[copy]), messages.WARNING)
                return HttpResponseRedirect(request.path)
            self.message_user(
                request,
                gettext(
                    "Made a draft from version %(number)s. Review it, then publish it to make "
                    "it live."
                )
                % {"number": version.number},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(
                reverse("admin:auth_flow_emailcopy_change", args=[copy.pk])
            )
        current = versions[-1]  # the live version
        return self._page(
            request,
            self.object_history_form_template,
            {
                "copy_draft_state": copy_draft_state(copy=copy),
                "original": copy,
                "title": gettext("Version %(number)s of “%(email)s”")
                % {"number": version.number, "email": copy},
                "version": version,
                "copy_changes": copy_changes(old=version, new=current),
                "is_current": version.history_id == current.history_id,
                "can_change": self.has_change_permission(request, copy),
                **(extra_context or {}),
            },
        )


def copy_overview(*, now=None) -> list[dict]:
    """Describe each email for the overview, with counts of the last 7 and 30 days."""
    now = now or timezone.now()
    week, month = now - timedelta(days=7), now - timedelta(days=30)
    bounced = Q(bounced_at__isnull=False)
    counts = {
        row["name"]: row
        for row in SentEmail.objects.filter(sent_at__gte=month, sent_at__lte=now)
        .values("name")
        .annotate(
            sent_7=Count("pk", filter=Q(sent_at__gte=week)),
            sent_30=Count("pk"),
            bounced_7=Count("pk", filter=bounced & Q(sent_at__gte=week)),
            bounced_30=Count("pk", filter=bounced),
        )
    }
    copies = EmailCopy.objects.select_related("draft_by", "publish_at_by")
    by_name: dict[str, list[EmailCopy]] = {}
    for copy in sorted(copies, key=lambda c: (c.name, language_position(c.language))):
        by_name.setdefault(copy.name, []).append(copy)
    emails_shown = []
    for kind in EMAIL_KINDS.values():
        rows = by_name.get(kind.name, [])
        editor = next((c for c in rows if c.language == settings.LANGUAGE_CODE), None)
        if kind.switched_on:
            sent = gettext("Sent")
        else:
            sent = gettext(
                "Not sent: switched off by your developers (the %(setting)s setting)"
            ) % {"setting": kind.switch}
        own = [c.language_name for c in rows if c.edited]
        drafts = [c for c in rows if c.has_draft]
        emails_shown.append(
            {
                "title": kind.title,
                "sent": sent,
                "switched_on": kind.switched_on,
                "when": kind.description,
                "url": reverse("admin:auth_flow_emailcopy_change", args=[editor.pk])
                if editor
                else "",
                "own_copy": own,
                "drafts": [
                    {"language": c.language_name, "state": copy_draft_state(copy=c)}
                    for c in drafts
                ],
                "counts": counts.get(
                    kind.name, {"sent_7": 0, "sent_30": 0, "bounced_7": 0, "bounced_30": 0}
                ),
            }
        )
    return emails_shown


def _posted_version(request: HttpRequest, *, key: str) -> int:
    """Read the version a confirmation page showed; 0 (matching none) if absent or bad."""
    value = request.POST.get(key, "")
    return int(value) if value.isdigit() and len(value) < 10 else 0


def copy_already_default(*, copies: list) -> str:
    """Say that emails already go out in their shipped default, so no draft was made."""
    return ngettext(
        "%(emails)s already goes out in its shipped default: there is nothing to start "
        "again from.",
        "%(emails)s already go out in their shipped default: there is nothing to start "
        "again from.",
        len(copies),
    ) % {"emails": ", ".join(str(copy) for copy in copies)}


def copy_changed_meanwhile(*, copies: list) -> str:
    """Say that emails changed since the page was shown, so nothing was replaced."""
    names = ", ".join(str(copy) for copy in copies)
    return ngettext(
        "%(emails)s changed while you were deciding (someone saved a draft or published), "
        "so its draft was not replaced. Look at it again, then choose once more.",
        "%(emails)s changed while you were deciding (someone saved drafts or published), "
        "so their drafts were not replaced. Look at them again, then choose once more.",
        len(copies),
    ) % {"emails": names}


def copy_test_recipients() -> list:
    """List the people a test may go to: active staff with an address who see the emails."""
    users = get_user_model().objects
    # Django's own question "who has this permission" (active users, superusers too);
    # changing implies seeing, as the admin has it.
    seeing = users.with_perm("auth_flow.view_emailcopy") | users.with_perm(
        "auth_flow.change_emailcopy"
    )
    return list(seeing.filter(is_staff=True).exclude(email="").distinct().order_by("username"))


# How long an open editor counts as "also editing" without another poll.
EDITING_SECONDS = 45


def copy_editors_note(*, pk: int, user) -> list[str]:
    """Record this user as editing a row; return the other editors' names."""
    # One cache key per editor, written only by that editor's own polls: no
    # read-modify-write to race, and a closed tab simply expires.
    cache.set(f"copy_editing:{pk}:{user.pk}", user.get_username(), EDITING_SECONDS)
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(pk=user.pk)
    keys = {f"copy_editing:{pk}:{other}": other for other in staff.values_list("pk", flat=True)}
    found = cache.get_many(list(keys))
    return sorted(found.values())


def copy_versions(*, copy: EmailCopy) -> list:
    """Return a row's published versions, oldest first, each numbered from 1."""
    versions = list(
        EmailCopy.history.filter(id=copy.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    for number, version in enumerate(versions, start=1):
        version.number = number
        version.kind_shown = CopyPublication.Kind(version.publish_kind).label
        version.moment = moment_show(version.history_date)
        user = version.history_user
        version.who = user.get_username() if user else ""
    return versions


def copy_changes(*, old, new) -> list[dict]:
    """Compare two versions field by field, in full, each line marked as kept or changed."""
    changes = []
    for field in COPY_FIELDS:
        before, after = getattr(old, field, "") or "", getattr(new, field, "") or ""
        if before == after:
            continue
        changes.append(
            {
                "field": EmailCopy._meta.get_field(field).verbose_name,
                "lines": copy_diff(old=before, new=after),
            }
        )
    return changes
