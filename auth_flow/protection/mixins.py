"""Answer a client's POSTs beyond a form's rate with 429 and a page saying so."""

from http import HTTPStatus

from django.conf import settings
from django.template.response import TemplateResponse

from auth_flow.protection.ratelimit import (
    Rate,
    client_ip_key,
    rate_limit_hit,
)


class RateLimitMixin:
    """Answer a client's POSTs beyond the scope's rate with 429 and a page saying so.

    Keyed by client IP (an IPv6 client by its /64), so the answer says nothing about
    any account.
    """

    rate_limit_scope: str

    def post(self, request, *args, **kwargs):
        rate = Rate.parse(settings.RATE_LIMITS[self.rate_limit_scope])
        key = client_ip_key(request=request)
        if rate_limit_hit(scope=self.rate_limit_scope, key=key, rate=rate):
            minutes = max(1, rate.seconds // 60)
            response = TemplateResponse(
                request,
                self.template_for("429.html"),
                {"title": "Too many attempts", "minutes": minutes},
                status=HTTPStatus.TOO_MANY_REQUESTS,
            )
            response["Retry-After"] = str(rate.seconds)
            return response
        return super().post(request, *args, **kwargs)
