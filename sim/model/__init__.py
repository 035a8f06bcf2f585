"""The model layer: the simulation itself.

The hierarchy as index arrays (:mod:`.hierarchy`), the per-level state and the random draws
of each phase (:mod:`.state`), every equation (:mod:`.rules`), the two engines that schedule
them (:mod:`.agent_engine`, :mod:`.vectorized_engine`, registered in :mod:`.engines`), the
Mesa model (:mod:`.bureau_model`) and one run with its seeds (:mod:`.run`). It imports only
the scenario layer.
"""
