"""``python -m waitwise_tui``."""

import sys

from waitwise_tui.cli import main

sys.exit(main())
