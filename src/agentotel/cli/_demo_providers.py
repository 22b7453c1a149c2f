"""One call through each of the other providers: Gemini, Bedrock (Converse), Mistral, Cohere,
Ollama, Groq and LiteLLM.

Used by ``agentotel demo`` (offline, against the fake LLM server) and by ``examples/agent.py``
(offline, or online with real keys). Plain SDK code, like :mod:`agentotel.cli._demo_agent`: the
spans come from the instrumentors. Each SDK is imported only when its call runs (importing
``litellm`` takes seconds); a provider whose SDK is not installed is skipped with one line saying
which extra installs it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.util import find_spec
from typing import Any

Say = Callable[[str], Any]

GEMINI_MODEL = "gemini-2.5-flash"
BEDROCK_MODEL = "amazon.nova-lite-v1:0"
LITELLM_MODEL = "openai/gpt-4o-mini"
QUESTION = "What is the weather in Paris?"

# The providers whose demo call is a module of its own, ``agentotel.cli._demo_<name>`` (``MODEL``,
# ``client(base_url)``, ``run(client, model, say)``); the extra that installs its SDK has its name.
MORE_PROVIDERS = (("mistralai", "mistral"), ("cohere", "cohere"), ("ollama", "ollama"), ("groq", "groq"))
"""(module and extra name, the name the demo says)."""

# LiteLLM fetches its model cost map from GitHub when imported, unless told to read its own copy.
_LITELLM_LOCAL_COST_MAP = "LITELLM_LOCAL_MODEL_COST_MAP"


def skipped(provider: str, extra: str, say: Say) -> None:
    """The one line a provider whose SDK is missing gets."""
    say(f"{provider}: skipped ({extra} is not installed: pip install 'agentotel[{extra}]')")


@contextmanager
def scoped_env(**values: str | None) -> Iterator[None]:
    """``os.environ`` with ``values`` set (``None``: removed) for the block only, restored after."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def gemini_client(base_url: str | None) -> Any:
    """A ``google-genai`` client: on ``base_url`` with a fake key, or the real Gemini API (its key from
    ``GEMINI_API_KEY`` / ``GOOGLE_API_KEY``) when ``base_url`` is ``None``. ``ImportError`` when the
    SDK is missing."""
    import google.genai as genai

    if base_url is None:
        return genai.Client()
    return genai.Client(api_key="demo-gemini-not-a-real-key", http_options={"base_url": base_url})


def run_gemini(client: Any, model: str, say: Say) -> None:
    """One ``generate_content`` call."""
    reply = client.models.generate_content(model=model, contents=QUESTION)
    say(f"gemini: {reply.text}")


def bedrock_client(base_url: str | None) -> Any:
    """A ``bedrock-runtime`` client: on ``base_url`` with static fake credentials and no instance
    metadata lookup (the environment changed only while the client is made), or AWS's real endpoint
    with the usual credential chain and region when ``base_url`` is ``None``."""
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    if base_url is None:
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        return boto3.client("bedrock-runtime", region_name=region)
    # The user's AWS profile and files play no part offline (a profile that does not exist here
    # would make the session fail).
    with scoped_env(AWS_EC2_METADATA_DISABLED="true", AWS_PROFILE=None, AWS_DEFAULT_PROFILE=None):
        return boto3.session.Session().client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=base_url,
            aws_access_key_id="AKIADEMONOTAREALKEY0",
            aws_secret_access_key="demo-not-a-real-secret-key",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )


def run_bedrock(client: Any, model: str, say: Say) -> None:
    """One Converse call."""
    reply = client.converse(
        modelId=model,
        messages=[{"role": "user", "content": [{"text": QUESTION}]}],
        inferenceConfig={"maxTokens": 64},
    )
    text = "".join(block.get("text", "") for block in reply["output"]["message"]["content"])
    say(f"bedrock: {text}")


def import_litellm() -> Any:
    """``litellm``, imported with its local cost map (no download); the variable is restored after
    the import, which is the only time LiteLLM reads it. ``ImportError`` when it is missing."""
    with scoped_env(**{_LITELLM_LOCAL_COST_MAP: os.environ.get(_LITELLM_LOCAL_COST_MAP, "True")}):
        import litellm

    return litellm


def run_litellm(litellm: Any, model: str, say: Say, **route: Any) -> None:
    """One ``litellm.completion`` call; ``route`` (``api_base``, ``api_key``) points it elsewhere."""
    reply = litellm.completion(model=model, messages=[{"role": "user", "content": QUESTION}], **route)
    say(f"litellm: {reply.choices[0].message.content}")


def offline_calls(
    base_url: str, openai_base_url: str, say: Say, announce: Callable[[str], Any] | None = None
) -> list[Callable[[], None]]:
    """The calls against the fake server at ``base_url`` (``openai_base_url``: its OpenAI
    prefix, for LiteLLM's ``openai/`` route), ready to run: the SDKs are imported and the clients
    made here (so the slow LiteLLM import is not timed as part of a call); a missing SDK is its
    skip line now and no call. ``announce`` is told before the LiteLLM import."""
    calls: list[Callable[[], None]] = []
    try:
        gemini = gemini_client(base_url)
    except ImportError:
        skipped("gemini", "google-genai", say)
    else:
        calls.append(lambda: run_gemini(gemini, GEMINI_MODEL, say))
    try:
        bedrock = bedrock_client(base_url)
    except ImportError:
        skipped("bedrock", "bedrock", say)
    else:
        calls.append(lambda: run_bedrock(bedrock, BEDROCK_MODEL, say))
    for name, shown in MORE_PROVIDERS:
        module = importlib.import_module(f"._demo_{name}", __package__)
        try:
            client = module.client(base_url)
        except ImportError:
            skipped(shown, name, say)
        else:
            calls.append(_call(module, client, say))
    if announce is not None and find_spec("litellm") is not None:
        announce("importing litellm (it takes a few seconds)")
    try:
        litellm = import_litellm()
    except ImportError:
        skipped("litellm", "litellm", say)
    else:
        route = {"api_base": openai_base_url, "api_key": "sk-demo-not-a-real-key", "max_retries": 0}
        calls.append(lambda: run_litellm(litellm, LITELLM_MODEL, say, **route))
    return calls


def _call(module: Any, client: Any, say: Say) -> Callable[[], None]:
    """The call of a provider module (:data:`MORE_PROVIDERS`) on its client."""
    return lambda: module.run(client, module.MODEL, say)


def run_offline(
    base_url: str, openai_base_url: str, say: Say, announce: Callable[[str], Any] | None = None
) -> None:
    """:func:`offline_calls`, then each call."""
    for call in offline_calls(base_url, openai_base_url, say, announce):
        call()
