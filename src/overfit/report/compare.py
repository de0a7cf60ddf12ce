"""Do the verdicts survive a change of seed? Compare two claims tables (the pipeline run with two global seeds).

    python -m overfit.report.compare results/claims.csv runs/seed-1/results/claims.csv

Prints both verdicts of every claim, and exits 1 if any claim holds under
one seed and does not hold under the other (a verdict that flips with the
draw of folds, initialisations and batch orders is not a finding).
"""

from __future__ import annotations

import sys

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
    both = side_by_side(first, second)
    with pd.option_context("display.width", 200, "display.max_rows", 200, "display.float_format", "{:.4f}".format):
        print(both.to_string(index=False))
    flips = verdict_flips(first, second)
    same = int((both.verdict_a == both.verdict_b).sum())
    print(f"\n{same} of {len(first)} claim rows have the same verdict; {len(flips)} hold under one seed and do not hold "
          "under the other" + (":\n" + flips.to_string(index=False) if len(flips) else "."))
    return 1 if len(flips) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
