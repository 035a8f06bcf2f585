"""The experiments layer: many runs.

Where runs execute (:mod:`.executors`: in process, local processes, Dask), progress
(:mod:`.progress`), the one experiment template (:mod:`.template`) and its registry of kinds
(:mod:`.kinds`): compare, sweep, sensitivity and robustness, each supplying its design,
analysis and writing only; checks made before any run (:mod:`.scenario_checks`) and reopening
a results folder (:mod:`.reopen`).
"""
