"""Run the command line: ``python -m e2badges``."""

import sys

from .cli import main

sys.exit(main())
