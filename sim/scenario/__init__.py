"""The scenario layer: what a run is asked to do.

The schema of scenario files (:mod:`.schema`) and their line-aware loader (:mod:`.loader`),
the model's constants (:mod:`.parameters`), the strategies (:mod:`.strategies`), the
reforms (:mod:`.policies`), the names of the outputs (:mod:`.output_names`), conditions on
outcomes (:mod:`.conditions`) and the wording of validation errors (:mod:`.messages`).
It imports no other layer.
"""
