"""Data stage: obtain the raw files (official source or a mirror), verify them, prepare them."""
