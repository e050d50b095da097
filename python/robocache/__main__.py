"""`python -m robocache ...` is the `robocache` command."""

import sys

from .cli import main

sys.exit(main())
