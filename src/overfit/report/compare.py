"""Do the verdicts survive a change of seed? Compare two claims tables (the pipeline run with two global seeds).

    python -m overfit.report.compare results/claims.csv runs/seed-1/results/claims.csv

Prints both verdicts of every claim, and exits 1 if any claim holds under
one seed and does not hold under the other (a verdict that flips with the
draw of folds, initialisations and batch orders is not a finding). Two
tables compare only if the same code and the same config but for the seed
made them (each claims table records their digests, and the
claims_provenance.json beside it file by file): otherwise it refuses, exit
2, naming the config sections and code files that differ.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from overfit.report.claims import verdict_flips


def side_by_side(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    merged = first.merge(second, on=["id", "protocol"], how="outer", suffixes=("_a", "_b"))
    return merged[["id", "protocol", "value_a", "low_a", "high_a", "verdict_a", "value_b", "low_b", "high_b", "verdict_b"]]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    first, second = (pd.read_csv(path) for path in argv)
    differ = unlike(*argv)
    if differ:
        print(f"refused: {argv[0]} and {argv[1]} were not made by the same code and config (but for the seed): "
              f"{', '.join(differ)} differ. Rerun both from this commit (make reproduce, then make seed-check).",
              file=sys.stderr)
        return 2
    both = side_by_side(first, second)
    with pd.option_context("display.width", 200, "display.max_rows", 200, "display.float_format", "{:.4f}".format):
        print(both.to_string(index=False))
    flips = verdict_flips(first, second)
    same = int((both.verdict_a == both.verdict_b).sum())
    print(f"\n{same} of {len(first)} claim rows have the same verdict; {len(flips)} hold under one seed and do not hold "
          "under the other" + (":\n" + flips.to_string(index=False) if len(flips) else "."))
    return 1 if len(flips) else 0


def unlike(first: str, second: str) -> list[str]:
    """What differs between what made two claims tables: config sections and code files (their provenance)."""
    from overfit.report.provenance import PROVENANCE, differences

    made = []
    for path in (first, second):
        beside = Path(path).with_name(PROVENANCE)
        if not beside.exists():
            return [f"the record of what made {path} ({beside} is missing: it predates the record)"]
        made.append(json.loads(beside.read_text()))
    return [f"{kind} {key}" for kind in ("config", "code") for key in differences(made[0][kind], made[1][kind])]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
