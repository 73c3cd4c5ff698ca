"""``python -m orchestration.benchmark``: see :mod:`orchestration.benchmark.bench`."""

import sys

from orchestration.benchmark.bench import main

sys.exit(main())
