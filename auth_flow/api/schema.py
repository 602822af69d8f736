"""The OpenAPI schema's additions: every operation documents the Accept-Language header."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter


class LanguageAutoSchema(AutoSchema):
    """Document, on every operation, the language its messages and emails come in."""

    def get_override_parameters(self):
        return [
            *super().get_override_parameters(),
            OpenApiParameter(
                name="Accept-Language",
                type=str,
                location=OpenApiParameter.HEADER,
                required=False,
                enum=[code for code, _name in settings.LANGUAGES],
                description=_(
                    "The language of the error messages in the answer, and of any email "
                    "the request causes (unless the account has saved a language of its "
                    "own). Any Accept-Language value works; the best match among these "
                    "languages is used, else the site's default."
                ),
            ),
        ]
