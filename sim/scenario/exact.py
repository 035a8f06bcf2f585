"""Values taken as written: no boolean or text silently read as a number, nothing else read as a switch.

Pydantic's lax mode reads ``True`` as 1, ``"0.2"`` as 0.2 and ``"yes"`` or 1 as ``True``. In a scenario that hides
mistakes (``escalation: true``, a quoted number, a YAML 1.1 habit such as ``cap: no``), so
every scenario section, parameter group and policy's options derives from
:class:`ExactModel`, which refuses, field by field and before any coercion, a boolean where
a number (or a strategy code) belongs, text where only a number does, and anything but a
boolean where only a boolean (a switch) does. The error names
the field, so the loader points at its line.
"""

from __future__ import annotations

import types
import typing
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationInfo, field_validator


def _leaves(annotation: Any) -> set[Any]:
    """The leaf types of an annotation (``list[int] | None`` gives ``{int, NoneType}``)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _leaves(typing.get_args(annotation)[0])
    if origin is None:
        return {annotation}
    if origin is typing.Literal:
        return {type(arg) for arg in typing.get_args(annotation)}
    found: set[Any] = set()
    for arg in typing.get_args(annotation):
        found |= _leaves(arg)
    return found or {Any}


def _is_number_type(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, int | float) and not issubclass(kind, bool)


def _contains(value: Any, kind: type) -> bool:
    """Whether ``value`` is, or holds among its items (a mapping's values), an instance of ``kind``."""
    if isinstance(value, kind):
        return True
    if isinstance(value, dict):
        return any(_contains(item, kind) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_contains(item, kind) for item in value)
    return False


def _exact(annotation: Any, value: Any) -> None:
    """Refuse what lax validation would coerce into a number, or into a switch, for a field of this annotation."""
    leaves = _leaves(annotation)
    if leaves and leaves <= {bool, types.NoneType} and value is not None and not isinstance(value, bool | np.bool_):
        raise ValueError(f"{value!r} is not true or false (a switch takes a boolean, written true or false)")
    numbers = {kind for kind in leaves if _is_number_type(kind)}
    if not numbers or bool in leaves or Any in leaves:
        return
    wanted = "a number" if all(kind in (int, float) for kind in numbers) else "a number or a name"
    if isinstance(value, bool):
        raise ValueError(f"{str(value).lower()} is a boolean, not {wanted}")
    if _contains(value, bool):
        raise ValueError(f"{value!r} holds a boolean (true or false) where {wanted} belongs")
    plain = all(kind in (int, float, types.NoneType) for kind in leaves)
    if plain and _contains(value, str):
        raise ValueError(f"{value!r} is text, not a number")


class ExactModel(BaseModel):
    """A model whose numeric fields take numbers only (see the module docstring)."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_coercion(cls, value: Any, info: ValidationInfo) -> Any:
        _exact(cls.model_fields[info.field_name].annotation, value)
        return value
