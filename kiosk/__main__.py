"""``python -m kiosk`` runs the command line."""

import sys

from kiosk.cli.main import main

sys.exit(main())
