"""Integrations with the host's error reporting and logging, each switched on by one variable.

* :mod:`agentotel.integrations.sentry` (``SENTRY_DSN``, the ``sentry`` extra): exceptions go to
  Sentry tagged with, and linked to, the OpenTelemetry trace and span they happened in;
* :mod:`agentotel.integrations.logs` (``AGENTOTEL_LOG_FORMAT=json|text``): the root logger writes
  lines that carry ``trace_id``, ``span_id``, ``conversation_id`` and ``run_id``.

Neither does anything unless asked: without its variable (or an explicit call) the host's Sentry
and logging set-up are left alone. Each module has a ``configure_from_env()`` that
``opentelemetry-instrument`` start-up calls once.
"""
