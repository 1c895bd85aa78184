"""The solve pipeline: checks, heuristic starts, the choice of strategy (full, aggregated,
candidate columns, decomposed), warm starts, backends and honest bounds, behind one
:func:`allocator.solve`."""
