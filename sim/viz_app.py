"""Entry module of the interactive page: ``solara run sim.viz_app`` serves ``page``.

``bureausim viz`` runs it; building the page here, not in :mod:`sim.viz`, keeps importing the
library free of side effects.
"""

from sim.viz import build_page, scenario_from_environment

page = build_page(scenario_from_environment())
