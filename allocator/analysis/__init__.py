"""What judges plans: the independent check (:mod:`.verify`: recomputes every constraint from
the problem's own fields, never from a model) and the comparison of the exact plan with the
heuristics (:mod:`.compare`)."""
