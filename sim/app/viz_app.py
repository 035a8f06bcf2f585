"""Entry module of the interactive page: ``solara run sim.app.viz_app`` serves ``page``.

``bureausim viz`` runs it; building the page here, not in :mod:`sim.app.viz`, keeps importing the
library free of side effects.
"""

from sim.app.viz import build_page, scenario_from_environment

page = build_page(scenario_from_environment())
