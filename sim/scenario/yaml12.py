"""YAML with the meaning of YAML 1.2's core schema, on top of PyYAML's safe loader.

PyYAML resolves plain scalars by YAML 1.1's rules, which turn ``no`` and ``on`` into
booleans, ``1:30`` into 90 (sexagesimal), ``010`` into 8 (octal) and leave ``1e-2`` a string
(1.1 wants a dot in a float). Scenario files and ``--set`` values are read with the core
schema instead (YAML 1.2.2, section 10.3.2): ``true``/``false`` are the only booleans, ``null``
and ``~`` the only nulls, integers are decimal, ``0o`` octal or ``0x`` hexadecimal, and a
float may be written in scientific notation without a dot. Everything else is text.

A resolver of our own rather than another YAML library, because the line-aware loader
(:mod:`sim.scenario.loader`) is built on PyYAML's node API, which records the line of every
key; the core schema is four regular expressions and one constructor.
"""

from __future__ import annotations

import re
import typing
from typing import Any

import yaml

NULL, BOOL, INT, FLOAT = (f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float"))

_CORE_RESOLVERS = (  # in the order they are tried: an integer before a float
    (NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]),
    (BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")),
    (INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")),
    (
        FLOAT,
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+.0123456789"),
    ),
)


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    """A core-schema integer: decimal (leading zeros are not octal), ``0o`` octal or ``0x`` hexadecimal."""
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text)


class CoreLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 core-schema resolution of plain scalars."""

    yaml_implicit_resolvers: typing.ClassVar[dict] = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag not in (NULL, BOOL, INT, FLOAT)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


for _tag, _pattern, _first in _CORE_RESOLVERS:
    CoreLoader.add_implicit_resolver(_tag, _pattern, _first)
CoreLoader.add_constructor(INT, _construct_int)


def load_value(text: str) -> Any:
    """One YAML value (a ``--set`` value: a scalar or a flow collection), read with the core schema."""
    return yaml.load(text, Loader=CoreLoader)
