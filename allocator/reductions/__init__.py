"""Reductions: ways to solve a smaller problem than the one asked and map its answer back —
aggregation of identical devices, POP-style decomposition, large-neighbourhood search."""
