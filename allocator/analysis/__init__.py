"""What a plan is worth and whether it is true: metrics (evaluate) and the independent check
(verify). Both read the problem's own fields and the plan, never a model."""
