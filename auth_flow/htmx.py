"""The htmx plumbing every page shares: page or partial in one place, and redirects."""

from http import HTTPStatus

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect, HttpResponseLocation


class HtmxPartialMixin:
    """Render the template's `content` partial for htmx requests, the whole page otherwise.

    This is the one place that decides. Boosted and history-restore requests replace the
    whole page, so they get it. A successful form answers htmx with HX-Location, which
    swaps the next page's partial into <main> and pushes its URL; without JavaScript the
    same view answers with Django's ordinary redirect.
    """

    partial_name = "content"
    # Forms take GET and POST; Django's FormView would also treat PUT as a POST.
    http_method_names = ["get", "post", "head", "options"]
    # Log in, log out and sign up change the whole layout, so they navigate instead.
    swap_on_success = True

    def wants_partial(self) -> bool:
        htmx = self.request.htmx
        return bool(htmx) and not htmx.boosted and not htmx.history_restore_request

    def template_for(self, name: str) -> str:
        """Return the template itself, or its partial when the request wants one."""
        return f"{name}#{self.partial_name}" if self.wants_partial() else name

    def get_template_names(self) -> list[str]:
        return [self.template_for(name) for name in super().get_template_names()]

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        patch_vary_headers(response, ("HX-Request",))
        return response

    def form_valid(self, form):
        response = super().form_valid(form)
        if (
            self.swap_on_success
            and self.wants_partial()
            and response.status_code == HTTPStatus.FOUND
        ):
            return HttpResponseLocation(response["Location"], target="#main", swap="innerHTML")
        return response


class HtmxRedirectMiddleware:
    """Turn a redirect answering an htmx request into a full navigation.

    The browser's XHR would follow a plain 302 silently and htmx would swap the target
    page (say, the login page after a session expired) into the middle of a form.
    Views that want an in-place swap answer with HX-Location themselves.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # HX-Location and HX-Redirect answers are 200s; only real 3xx redirects change.
        if getattr(request, "htmx", False) and 300 <= response.status_code < 400:
            redirect = HttpResponseClientRedirect(response["Location"])
            # Every header but the redirect itself: the reset link's answer carries
            # Referrer-Policy: no-referrer and Cache-Control: no-store, and must keep them.
            for header, value in response.items():
                if header.lower() not in {"location", "content-type", "content-length"}:
                    redirect[header] = value
            redirect.cookies = response.cookies
            return redirect
        return response
