"""``python -m orchestration.landing``: see orchestration/landing/cli.py."""

import sys

from orchestration.landing.cli import main

sys.exit(main())
