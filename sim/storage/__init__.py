"""The storage layer: what is on disk.

One writer per folder (:mod:`.locks`), the crash-safe store of an experiment's finished runs
(:mod:`.run_store`), a run's results folder written all at once (:mod:`.results_folder`),
the checks of output locations (:mod:`.output_checks`) and manifests with versions and the
git commit (:mod:`.provenance`).
"""
