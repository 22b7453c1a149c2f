"""The run store: one folder per agent run, to list, show, follow and replay with ``agentotel runs``.

A run is one agent execution: an ``invoke_agent`` / ``invoke_workflow`` / ``plan`` span not inside
a run, with all its spans (an agent run); or, for code with no such span, the process's implicit
run, which gathers top-level LLM calls and tool spans until ``AGENTOTEL_RUNS_IDLE_GAP`` seconds
(30) pass with none open, an agent run starts, or the processor shuts down (see ``processor``).

::

    from agentotel.processors import RunStoreSpanProcessor
    provider.add_span_processor(RunStoreSpanProcessor("runs"))    # or AGENTOTEL_RUNS_DIR=runs

    <runs dir>/20261121T101502.123Z_4bf92f3577b34da6/
        events.jsonl    one JSON line per ended span (every attribute), appended as spans end
        summary.json    objective, status, start/end, tokens, cost, tool calls, errors, models,
                        parent run, trace ids; "running" from the run's start, rewritten
                        atomically when it ends (and for each span that ends later);
                        "interrupted" when the processor shut down before its root ended
        artifacts/      files stored with agentotel.save_artifact(name, data)

The run id is the folder name; a prefix of it, or of any of the run's trace ids, selects a run in
the CLI. The newest ``AGENTOTEL_RUNS_KEEP`` runs (default 100) are kept. Files are created 0600,
the runs dir 0700. ``agentotel.fork_run()`` starts a run
linked to the current one (``parent_run`` in its summary). Span content (prompts, tool arguments)
is in ``events.jsonl`` only when content capture put it on the spans.

Reading runs back (what ``agentotel runs`` and ``agentotel top --runs`` use, and nothing else):
:func:`runs_dir`, :func:`list_runs`, :func:`find_run`, :func:`load_run` (summary and events),
:func:`read_summary`, :func:`read_events`, :class:`EventTail` (the events as they are appended),
:func:`run_stamp` (changed files), :func:`is_llm_span`, :data:`RUNNING`; every failure is a
:class:`RunStoreError` with a one-line message.
"""

from agentotel.processors.runstore._api import Fork, fork_run, save_artifact
from agentotel.processors.runstore._processor import RunStoreSpanProcessor
from agentotel.processors.runstore._read import (
    RUNNING,
    EventTail,
    find_run,
    is_llm_span,
    list_runs,
    load_run,
    read_events,
    read_summary,
    run_stamp,
    runs_dir,
)
from agentotel.processors.runstore._store import RunStoreError

__all__ = [
    "EventTail",
    "Fork",
    "RUNNING",
    "RunStoreError",
    "RunStoreSpanProcessor",
    "find_run",
    "fork_run",
    "is_llm_span",
    "list_runs",
    "load_run",
    "read_events",
    "read_summary",
    "run_stamp",
    "runs_dir",
    "save_artifact",
]
