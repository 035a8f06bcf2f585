"""The checks layer: the model's contract.

Pattern claims P1-P8 with their negative controls (:mod:`.patterns`), the validation report
docs/VALIDATION.md (:mod:`.validation`) and the benchmarks (:mod:`.bench`).
"""
