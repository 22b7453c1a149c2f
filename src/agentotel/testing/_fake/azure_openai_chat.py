"""Azure OpenAI: ``POST /openai/deployments/{deployment}/chat/completions`` and ``.../embeddings``.

The OpenAI wire formats with the deployment in the path (``ctx.params["deployment"]``) and
``api-version`` in the query, which the router drops; errors in OpenAI's format, as Azure sends
them. The ``AzureOpenAI`` client of the ``openai`` SDK and LiteLLM's ``azure/*`` models use it.
"""

from __future__ import annotations

from . import _openai, openai_chat, openai_embeddings
from ._core import Wire

__all__ = ["WIRE"]

WIRE = Wire(
    routes={
        "/openai/deployments/{deployment}/chat/completions": openai_chat.WIRE.routes["/chat/completions"],
        "/openai/deployments/{deployment}/embeddings": openai_embeddings.WIRE.routes["/embeddings"],
    },
    errors=_openai.ERRORS,
)
