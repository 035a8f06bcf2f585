"""The analysis layer: numbers and figures from result tables.

Means, confidence intervals and paired effects (:mod:`.statistics`), regret, satisficing
and rankings (:mod:`.regret`), Latin hypercube samples (:mod:`.sampling`), scenario
discovery with PRIM (:mod:`.discovery`) and figures (:mod:`.plots`). It reads tables only:
an import-linter contract keeps it from importing the model.
"""
