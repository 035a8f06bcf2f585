"""Pydantic's validation errors as user messages: one sentence, the allowed values, did-you-mean.

Every place that turns a pydantic error into a :class:`sim.errors.ScenarioError` (scenario
files, ``--set``, arms, keyword arguments of the model, robustness futures) words it here.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.errors import ScenarioError


def did_you_mean(word: str, choices: typing.Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or nothing when none is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _model_at(loc: tuple[Any, ...], root: type[BaseModel]) -> type[BaseModel] | None:
    """The pydantic model class that holds the field at ``loc`` (None if not a model)."""
    cls: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or part not in cls.model_fields:
            return None
        cls = _inner_model(cls.model_fields[part].annotation)
    return cls if isinstance(cls, type) and issubclass(cls, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        inner = _inner_model(arg)
        if inner is not None:
            return inner
    return None


def describe_error(detail: dict[str, Any], root: type[BaseModel] | None = None) -> str:
    """One sentence for a pydantic error, with the allowed values or keys."""
    kind = detail["type"]
    loc = tuple(detail["loc"])
    if kind == "extra_forbidden":
        holder = _model_at(loc[:-1], root) if root is not None else None
        allowed = (
            [a for a, info in holder.model_fields.items() if not (info.json_schema_extra or {}).get("hidden")]
            if holder
            else []
        )
        allowed = [a for a in allowed if a != "source"]
        return f"unknown key{did_you_mean(loc[-1], allowed)}; allowed: {', '.join(allowed)}"
    message = detail["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if kind not in ("value_error", "assertion_error") and "input" in detail and not isinstance(detail["input"], dict):
        message += f" (got {detail['input']!r})"
    return message


def user_error(
    error: ValidationError, *, source: str | None = None, line: int | None = None, field: str | None = None, root=None
) -> ScenarioError:
    """The first error of a pydantic ``ValidationError`` as a :class:`ScenarioError`.

    Args:
        error: What pydantic raised.
        source: The file or option the values came from.
        line: The line of ``source`` the values are on, when known.
        field: The field to name; by default the error's own location, dotted.
        root: The model validated, so that an unknown key can list the allowed ones.
    """
    detail = error.errors()[0]
    where = field if field is not None else ".".join(str(part) for part in detail["loc"]) or None
    return ScenarioError(describe_error(detail, root), source=source, line=line, field=where)
