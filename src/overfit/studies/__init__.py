"""Studies of single sections that train on the prepared data outside the protocols' experiment grid.

Each module is one study, read top to bottom: what it trains, on which rows, with which seeds, and the table it
returns (its job writes it; its claims and its report section read it).
"""
