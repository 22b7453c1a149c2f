"""Instrumentors, one sub-package each, and the patch bookkeeping they share."""
