"""``python -m orchestration.reports``: see orchestration/reports/cli.py."""

import sys

from orchestration.reports.cli import main

sys.exit(main())
