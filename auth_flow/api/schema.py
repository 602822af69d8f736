"""The OpenAPI schema's additions: every operation documents the Accept-Language header."""

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiParameter


class LanguageAutoSchema(AutoSchema):
    """Document, on every operation, the language its messages and emails come in."""

    def get_override_parameters(self):
        # The description is in English like the rest of the schema, which is
        # written for developers.
        return [
            *super().get_override_parameters(),
            OpenApiParameter(
                name="Accept-Language",
                type=str,
                location=OpenApiParameter.HEADER,
                required=False,
                # Not an enum: a real header carries weights and regions
                # ("de-CH,de;q=0.9"), and any value is answered, falling back.
                examples=[
                    OpenApiExample(name=code, value=code) for code, _name in settings.LANGUAGES
                ],
                description=(
                    "The language of the error messages in the answer, and of any email "
                    "the request causes (unless the account has saved a language of its "
                    "own). Any Accept-Language value works; the best match among the "
                    "example languages is used, else the site's default."
                ),
            ),
        ]
