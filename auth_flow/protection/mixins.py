"""Answer a client's POSTs beyond a form's rate with 429 and a page saying so."""

from http import HTTPStatus

from django.template.response import TemplateResponse
from django.utils.translation import gettext

from auth_flow.protection.ratelimit import client_ip_key, rate_limit_over


class RateLimitMixin:
    """Answer a client's POSTs beyond the scope's rate with 429 and a page saying so.

    Keyed by client IP (an IPv6 client by its /64), so the answer says nothing about
    any account.
    """

    rate_limit_scope: str

    def post(self, request, *args, **kwargs):
        key = client_ip_key(request=request)
        if window := rate_limit_over(scope=self.rate_limit_scope, key=key):
            response = TemplateResponse(
                request,
                self.template_for("429.html"),
                {
                    "title": gettext("Too many attempts"),
                    "minutes": max(1, -(-window.seconds_left // 60)),
                },
                status=HTTPStatus.TOO_MANY_REQUESTS,
            )
            response["Retry-After"] = str(window.seconds_left)
            return response
        return super().post(request, *args, **kwargs)
