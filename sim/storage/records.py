"""Reading the small JSON records of a results folder (``manifest.json``, ``experiment.json``) defensively.

A results folder may have been damaged after it was written (a disk error, an edit by hand,
a copy cut short), and it is read back by resume, ``bureausim report`` and
``sim.load_results``. A record that cannot be read, is not a JSON object, or lacks a field
of the expected type is a user-facing error naming the folder and the file, never a
traceback from deep inside the code that trusted it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError

RECORD_CAP = 64 * 1024 * 1024
"""The largest record read (a manifest of a very large experiment is a few megabytes)."""


def read_record(path: Path, fields: dict[str, type], *, hint: str) -> dict[str, Any]:
    """The JSON object in ``path``, with each of ``fields`` present and of its type.

    Args:
        path: The record's file, in a results folder.
        fields: Required fields and their types.
        hint: What the user can do about a damaged record (``"choose a new --out"``).

    Raises:
        ScenarioError: naming the folder and the file, for a record that is missing, unreadable,
            not a JSON object or without a required field.
    """
    folder, name = str(path.parent), path.name
    try:
        if path.stat().st_size > RECORD_CAP:
            raise ScenarioError(f"{name} is larger than a results record can be; it is damaged; {hint}", source=folder)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"has no {name}; {hint}", source=folder) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{name} cannot be read ({type(error).__name__}); {hint}", source=folder) from None
    try:
        record = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise ScenarioError(f"{name} is damaged (not JSON); {hint}", source=folder) from None
    if not isinstance(record, dict):
        raise ScenarioError(f"{name} is damaged (not a JSON object); {hint}", source=folder)
    for field, kind in fields.items():
        if not isinstance(record.get(field), kind):
            problem = f"{name} is damaged (its {field!r} is missing or of the wrong type)"
            raise ScenarioError(f"{problem}; {hint}", source=folder)
    return record
