"""The application layer: what users touch.

The ``bureausim`` command (:mod:`.cli`), its console tables (:mod:`.console`), the HTML
report (:mod:`.report`) and the interactive page (:mod:`.viz`, served by :mod:`.viz_app`).
"""
