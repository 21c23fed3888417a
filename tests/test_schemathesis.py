"""Property-based requests from the app's own OpenAPI schema (schemathesis): no input may cause
a server error. Bounded in examples and time; the echo model and the embedded speech engines
serve the turns."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from agent_session.main import create_app

from .conftest import make_settings

app = create_app(make_settings(llm_backend="echo", max_upload_bytes=200_000,
                               max_audio_seconds=5, api_keys=""))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    case.call_and_validate(checks=[not_a_server_error])
