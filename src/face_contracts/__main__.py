"""``python -m face_contracts`` runs the command line."""

import sys

from face_contracts.cli import main

sys.exit(main())
