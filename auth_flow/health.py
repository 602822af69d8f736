"""Answer a load balancer: database, email queue, rate-limit cache, breach check."""

from http import HTTPStatus

from django.db import DatabaseError
from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import View

from auth_flow.accounts.breach import breach_unreachable_count
from auth_flow.mail.tasks import queue_status
from auth_flow.protection.ratelimit import (
    rate_cache_status,
)


@method_decorator(never_cache, name="dispatch")
class HealthView(View):
    """Answer a load balancer: 200 with the queue's depth, 503 when the database is down.

    Redis down is "cache": "degraded", still 200: the site keeps working, with rate
    limits counted in each process's memory until it answers again. So is a breach
    check that gets no answer: "breach_check_unreachable" counts the passwords accepted
    unchecked over the day since the first.
    """

    http_method_names = ["get", "head"]

    def get(self, request):
        try:
            status = queue_status()
        except DatabaseError:
            return JsonResponse({"db": "error"}, status=HTTPStatus.SERVICE_UNAVAILABLE)
        return JsonResponse(
            {
                "db": "ok",
                "cache": rate_cache_status(),
                "queue_waiting": status.waiting,
                "oldest_waiting_seconds": status.oldest_waiting_seconds,
                "breach_check_unreachable": breach_unreachable_count(),
            }
        )
