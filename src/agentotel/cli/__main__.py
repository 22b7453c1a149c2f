"""``python -m agentotel.cli``."""

import sys

from agentotel.cli import main

sys.exit(main())
