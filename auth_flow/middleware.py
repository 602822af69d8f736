from django.http import HttpRequest, HttpResponse
from django_htmx.http import HttpResponseClientRedirect


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
