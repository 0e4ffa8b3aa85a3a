"""Constants shared by the `keys` tests (a uniquely named module: every test folder has a conftest)."""

from __future__ import annotations

from datetime import UTC, datetime

from keys import Suite

# SM2 is pure Python: property tests over the gm suite run fewer examples.
EXAMPLES = {Suite.INTL: 30, Suite.GM: 8}

FIXED_TIME = datetime(2025, 3, 1, 8, 0, 0, tzinfo=UTC)
