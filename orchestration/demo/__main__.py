"""``python -m orchestration.demo``: write the demo landing folder (see orchestration/demo/)."""

import sys

from orchestration.demo.generator import main

sys.exit(main())
