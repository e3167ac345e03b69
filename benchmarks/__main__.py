"""`python -m benchmarks` (from the repository's root): the same as `python benchmarks/run.py`."""

import sys

from .cli import main

sys.exit(main())
