"""The htmx plumbing every page shares: page or partial in one place, and redirects."""

from http import HTTPStatus

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django_htmx.http import HttpResponseLocation


class HtmxPartialMixin:
    """Render the template's `content` partial for htmx requests that replace <main>.

    This is the one place that decides (`htmx_wants_partial`). A form's in-place swap
    targets <main> and gets the partial; a boosted link or form, a history restore and a
    swap of the whole body (after log-in or log-out, when the header changes too) get
    the whole page. A successful form answers htmx with HX-Location, which swaps the next
    page's partial into <main> and pushes its URL; without JavaScript the same view
    answers with Django's ordinary redirect.
    """

    partial_name = "content"
    # Forms take GET and POST; Django's FormView would also treat PUT as a POST.
    http_method_names = ["get", "post", "head", "options"]
    # Log in and confirming an address change the header too: their redirect is left
    # to HtmxRedirectMiddleware, which swaps the whole body instead of <main>.
    swap_on_success = True

    def wants_partial(self) -> bool:
        return htmx_wants_partial(request=self.request)

    def template_for(self, name: str) -> str:
        """Return the template itself, or its partial when the request wants one."""
        return f"{name}#{self.partial_name}" if self.wants_partial() else name

    def get_template_names(self) -> list[str]:
        return [self.template_for(name) for name in super().get_template_names()]

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        patch_vary_headers(response, ("HX-Request", "HX-Target"))
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


def htmx_wants_partial(*, request: HttpRequest) -> bool:
    """Say whether this request replaces <main> only, and so wants the page's partial."""
    htmx = request.htmx
    return bool(htmx) and not htmx.history_restore_request and htmx.target == MAIN


MAIN = "main"  # the id of the element a partial replaces


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer an unknown URL with the site's 404 page, or its partial for a swap of <main>."""
    template = "404.html#content" if htmx_wants_partial(request=request) else "404.html"
    response = render(
        request, template, {"title": gettext("Page not found")}, status=HTTPStatus.NOT_FOUND
    )
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


class HtmxRedirectMiddleware:
    """Turn a redirect answering an in-place swap into a swap of the whole body.

    The browser's XHR would follow a plain 302 silently and htmx would swap the next page
    (say, the home page after log-in, or the log-in page after a session expired) into
    the middle of a form, under the old header. HX-Location fetches it instead as a
    whole page into <body>, pushing its URL: no reload. A boosted request already
    replaces the whole body, so its redirect is followed as it is.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # HX-Location and HX-Redirect answers are 200s; only real 3xx redirects change.
        htmx = getattr(request, "htmx", False)
        if htmx and not htmx.boosted and 300 <= response.status_code < 400:
            redirect = HttpResponseLocation(response["Location"], target="body")
            # Every header but the redirect itself: the reset link's answer carries
            # Referrer-Policy: no-referrer and Cache-Control: no-store, and must keep them.
            for header, value in response.items():
                if header.lower() not in {"location", "content-type", "content-length"}:
                    redirect[header] = value
            redirect.cookies = response.cookies
            return redirect
        return response
