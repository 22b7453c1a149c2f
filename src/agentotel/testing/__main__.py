"""``python -m agentotel.testing``: run the fake LLM server in the foreground."""

from agentotel.testing._server import main

raise SystemExit(main())
