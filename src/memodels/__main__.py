"""``python -m memodels`` runs the console command."""

import sys

from .cli.main import main

sys.exit(main())
