"""``python -m server``: the same as ``motcua-server``."""

import sys

from server.cli import main

sys.exit(main())
