"""What OpenAI's three wire formats share: the error format, the dated model name, the
request-id header."""

from __future__ import annotations

import re

from ._core import ErrorFormat, json_response
from ._state import FakeResponse

__all__ = ["ERRORS", "FINGERPRINT", "headers", "model_name"]

FINGERPRINT = "fp_fake"
_MODEL_DATE = "2024-08-06"
_DATED_MODEL_RE = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$")


def model_name(model: object) -> str:
    """The model as OpenAI reports it: dated (``gpt-4o`` → ``gpt-4o-2024-08-06``)."""
    name = model if isinstance(model, str) else "unknown"
    return name if _DATED_MODEL_RE.search(name) else f"{name}-{_MODEL_DATE}"


def headers(request_id: str) -> dict[str, str]:
    return {"x-request-id": request_id}


def _error_body(status: int, etype: str, message: str, code: str | None, request_id: str) -> FakeResponse:
    body = {"error": {"message": message, "type": etype, "param": None, "code": code}}
    return json_response(status, body, headers(request_id))


ERRORS = ErrorFormat(
    body=_error_body,
    scenarios={
        "rate_limit": (429, "requests", "rate_limit_exceeded", "Rate limit reached (fake LLM server)."),
        "server_error": (500, "server_error", None, "The server had an error while processing your request."),
        "overloaded": (503, "server_error", "overloaded", "The engine is currently overloaded."),
        "bad_request": (400, "invalid_request_error", None, "Invalid request (fake LLM server scenario)."),
    },
    malformed_event=b'data: {"id": "broken\n\n',
)
