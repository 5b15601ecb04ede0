"""The suite's command-line options, set by the root conftest before any test module loads.

Test modules read them at import (Hypothesis settings are fixed when a test is decorated), which
a fixture could not serve.
"""

from __future__ import annotations

fuzz_examples = 0
"""``--fuzz-examples``: examples per fuzz test; 0 keeps each test's normal count."""
