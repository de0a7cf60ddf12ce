"""Report stage: tables, figures, claims and one self-contained HTML page, all from the result tables."""
