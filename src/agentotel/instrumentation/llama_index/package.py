"""Supported versions of LlamaIndex (``llama-index-core``, imported as ``llama_index.core``)."""

_instruments = ("llama-index-core >= 0.14.10, < 0.15",)
