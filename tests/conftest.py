"""Test-wide settings: property tests (hypothesis) draw the same examples on every run
(``derandomize``), so that CI on a fresh machine sees exactly the cases checked here;
``MEMODELS_HYPOTHESIS=explore`` draws new ones."""

import os

from hypothesis import settings

settings.register_profile("fixed", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("explore" if os.environ.get("MEMODELS_HYPOTHESIS") == "explore"
                      else "fixed")
