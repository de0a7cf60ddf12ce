"""Seeds derived from the config seed and stable names (never Python's salted ``hash``)."""

from __future__ import annotations

import hashlib


def stable_seed(base: int, *parts) -> int:
    """A 31-bit seed that depends only on ``base`` and the printed ``parts``."""
    text = "|".join(str(p) for p in (base, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") & 0x7FFFFFFF
