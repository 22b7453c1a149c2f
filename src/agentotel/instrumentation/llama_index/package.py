"""Supported versions of LlamaIndex (``llama-index-core``, imported as ``llama_index.core``) and of
its workflow engine (``llama-index-workflows``, from 2.16 the one that traces a workflow's run as
``run_workflow`` on the dispatcher the bridge listens to)."""

_instruments = ("llama-index-core >= 0.14.10, < 0.15", "llama-index-workflows >= 2.16, < 3")
