"""``python -m cumulo ...``: the same as the ``cumulo`` command."""

import sys

from cumulo.cli import main

sys.exit(main())
