"""What the Bedrock test modules share: the client on the fake server, models, expected attributes."""

from __future__ import annotations

import json
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config

from agentotel.testing import FakeLLMServer

ACCESS_KEY = "AKIAFAKEACCESSKEY0001"
SECRET_KEY = "fakeSecretKey0123456789SECRETabcdefghijkl"
SESSION_TOKEN = "fakeSessionToken0123456789TOKENxyz"
CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0"
NOVA = "amazon.nova-pro-v1:0"
LLAMA = "meta.llama3-8b-instruct-v1:0"
OTHER = "cohere.command-r-v1:0"
WEATHER_TOOL = {
    "toolSpec": {
        "name": "get_weather",
        "description": "Weather of a city",
        "inputSchema": {
            "json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
        },
    }
}


# Converse's usage names its cache tokens from botocore 1.37.24 on; before, botocore's parser drops
# the fields the service sends, so there is nothing for us to read.
CONVERSE_CACHE = "cacheReadInputTokens" in (
    botocore.session.get_session().get_service_model("bedrock-runtime").shape_for("TokenUsage").members
)
requires_converse_cache = pytest.mark.skipif(
    not CONVERSE_CACHE, reason="Converse cache token fields: botocore>=1.37.24"
)


def converse_usage(i: int, o: int) -> dict[str, Any]:
    """The usage attributes of a Converse call without cached tokens, on the installed botocore."""
    found: dict[str, Any] = {"gen_ai.usage.input_tokens": i, "gen_ai.usage.output_tokens": o}
    if CONVERSE_CACHE:
        found |= {"gen_ai.usage.cache_read.input_tokens": 0, "gen_ai.usage.cache_creation.input_tokens": 0}
    return found


def make_client(server: FakeLLMServer, service: str = "bedrock-runtime", attempts: int = 1) -> Any:
    """A real botocore client of ``service`` on the fake server, static fake credentials."""
    return boto3.session.Session().client(
        service,
        region_name="us-east-1",
        endpoint_url=server.base_url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=SESSION_TOKEN,
        config=Config(retries={"max_attempts": attempts, "mode": "standard"}),
    )


def nova_pro_cost(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    """The cost attribute of a Nova Pro call at its shipped price ($0.80 input, $3.20 output per
    million tokens, us-east-1 on demand; no cache price shipped)."""
    return {
        "agentotel.usage.cost_usd": pytest.approx((input_tokens * 0.8 + output_tokens * 3.2) / 1e6, rel=1e-12)
    }


def said(text: str) -> list[dict[str, Any]]:
    """A one-message Converse conversation."""
    return [{"role": "user", "content": [{"text": text}]}]


def anthropic_body(text: str, **extra: Any) -> str:
    return json.dumps(
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 100,
            "messages": [{"role": "user", "content": text}],
            **extra,
        }
    )


def request_attrs(server: FakeLLMServer, model: str, **extra: Any) -> dict[str, Any]:
    """The request attributes every Bedrock span starts with."""
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.request.model": model,
        "server.address": "127.0.0.1",
        "server.port": server.port,
        **extra,
    }
