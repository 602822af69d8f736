"""Property-based: schemathesis generates requests from the served schema, all checks on.

Against the live server over HTTP (the WSGI handler closes its database connection after
each request, which an in-process test database cannot take).
"""

import hypothesis
import pytest
import schemathesis
from django.core.cache import cache
from django.test import Client
from django.utils.crypto import get_random_string
from schemathesis.config import SchemathesisConfig

# Every check runs. A body can be valid by the schema and still carry a key that is
# wrong or used, or a password the validators refuse: the documented answer is 400 with
# field errors (or 404 for a bad key), so those count as accepting valid data.
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "403", "404", "429"]
"""


@pytest.fixture
def api_schema(live_server, transactional_db):
    return schemathesis.openapi.from_url(
        f"{live_server.url}/api/schema/", config=SchemathesisConfig.from_str(CONFIG)
    )


@pytest.fixture
def session_headers(api_schema, user) -> dict[str, str]:
    """Send a logged-in session with its CSRF token, so change/ is tested past 403."""
    client = Client()
    client.force_login(user)
    csrf = get_random_string(32)
    return {
        "Cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
    }


# The fixture loader needs pytest < 9.2 (9.2.0 renamed an attribute it reads).
schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis.settings(
    max_examples=40, deadline=None, suppress_health_check=list(hypothesis.HealthCheck)
)
def test_the_api_answers_every_generated_request_as_its_schema_says(case, session_headers):
    cache.clear()  # the rate limits would turn most of the run into documented 429s
    case.call_and_validate(headers=session_headers)
