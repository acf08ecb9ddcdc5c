"""Dataclass configs that double as CLI options and TOML recipe files.

Each field of a config dataclass becomes a `--flag`; its metadata (made by
`option`) holds the help text and the checks (choices, bounds) that apply to
flags, TOML recipes and Python alike, in one place (`validate`). Values
resolve in this order: the dataclass default, then a TOML file (`--config`),
then flags given on the command line. An optional setting (`float | None`, ...) is
switched off with `none`: `--clipnorm none` on the command line, `clipnorm = "none"` in TOML.

Example:
>>> from dataclasses import dataclass
>>> @dataclass
... class Demo:
...     units: int = option(64, "state size", min=1, max=4096)
>>> validate(Demo(units=0))
Traceback (most recent call last):
...
ValueError: Expected units >= 1. Received: units=0
"""

import argparse
import dataclasses
import math
import tomllib
import types
import typing
from pathlib import Path

import tomli_w

from rnnlab.io import describe_path


def option(default, help, *, choices=None, min=None, max=None, min_exclusive=False, max_exclusive=False):
    """A config field with its help text and checks.

    Args:
        default: the default value.
        help: one line for `--help` (the default is appended).
        choices: the valid values (a tuple or the keys of a dict).
        min, max: bounds, inclusive unless `min_exclusive`/`max_exclusive`.
    """
    metadata = {"help": help, "choices": tuple(choices) if choices is not None else None}
    metadata.update(min=min, max=max, min_exclusive=min_exclusive, max_exclusive=max_exclusive)
    return dataclasses.field(default=default, metadata=metadata)


def field_type(field):
    """The scalar type of a field: `int` for `int | None`, etc."""
    kind = field.type
    if isinstance(kind, str):  # postponed annotations
        kind = {"int": int, "float": float, "str": str, "bool": bool}.get(kind.split("|")[0].strip(), str)
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    return kind


def is_optional(field):
    kind = field.type
    return typing.get_origin(kind) in (typing.Union, types.UnionType) and type(None) in typing.get_args(kind)


NONE = "none"  # how the command line and TOML say None for an optional setting


class _SwitchedOff:
    """A flag given as `none`: unlike a flag not given (None), it overrides the recipe."""

    def __repr__(self):
        return NONE


SWITCHED_OFF = _SwitchedOff()


def _flag_type(kind):
    """An argparse `type` for an optional setting: `kind`, or `none`."""

    def parse(text):
        return SWITCHED_OFF if text.strip().lower() == NONE else kind(text)

    parse.__name__ = kind.__name__  # argparse names it in "invalid float value: 'x'"
    return parse


def validate(config):
    """Checks every field of `config` against its type, choices and bounds.

    Raises:
        ValueError: naming the field, what it received and what is valid.
    """
    for field in dataclasses.fields(config):
        name, value, meta = field.name, getattr(config, field.name), field.metadata
        if value is None:
            if is_optional(field):
                continue
            raise ValueError(f"Expected a value for {name}. Received: {name}=None")
        kind = field_type(field)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
            object.__setattr__(config, name, value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ValueError(f"Expected {name} to be {kind.__name__}. Received: {name}={value!r}")
        if meta.get("choices") is not None and value not in meta["choices"]:
            raise ValueError(f"Expected {name} in {set(meta['choices'])}. Received: {name}={value!r}")
        if kind is float and not math.isfinite(value):
            raise ValueError(f"Expected a finite {name}. Received: {name}={value!r}")
        low, high = meta.get("min"), meta.get("max")
        if low is not None and (value <= low if meta.get("min_exclusive") else value < low):
            op = ">" if meta.get("min_exclusive") else ">="
            raise ValueError(f"Expected {name} {op} {low}. Received: {name}={value!r}")
        if high is not None and (value >= high if meta.get("max_exclusive") else value > high):
            op = "<" if meta.get("max_exclusive") else "<="
            raise ValueError(f"Expected {name} {op} {high}. Received: {name}={value!r}")


def add_arguments(parser, config_cls, skip=(), only=None):
    """Adds one `--flag` per field of `config_cls` (or of the names in `only`); unset
    flags stay None."""
    for field in dataclasses.fields(config_cls):
        if field.name in skip or (only is not None and field.name not in only):
            continue
        kind = field_type(field)
        flag = "--" + field.name.replace("_", "-")
        help_text = f"{field.metadata.get('help', '')} (default: {field.default})"
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif is_optional(field) and kind is not str and field.metadata.get("choices") is None:
            help_text = f"{field.metadata.get('help', '')} (default: {field.default}; '{NONE}' unsets it)"
            parser.add_argument(flag, type=_flag_type(kind), default=None, help=help_text)
        else:
            parser.add_argument(
                flag, type=kind, default=None, choices=field.metadata.get("choices"), help=help_text
            )


def load_toml(path, config_cls):
    """Reads a TOML recipe and checks its keys and value types.

    Raises:
        ValueError: unreadable file, unknown key or wrong type; the message
            names the file, the key, what it received and what is valid.
    """
    path = Path(path)
    if path.exists() and not path.is_file():  # a FIFO would block the read, a folder cannot be read
        raise ValueError(f"Config file {path} is {describe_path(path)}. Expected a TOML file.")
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"Config file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"Config file {path} is not valid TOML: {error}") from None
    except RecursionError:
        raise ValueError(f"Config file {path} is not valid TOML: nested too deeply.") from None
    fields = {field.name: field for field in dataclasses.fields(config_cls)}
    for key, value in values.items():
        if key not in fields:
            raise ValueError(f"Unknown key {key!r} in {path}. Expected keys: {', '.join(sorted(fields))}")
        kind = field_type(fields[key])
        if is_optional(fields[key]) and kind is not str and value == NONE:
            values[key] = None
            continue
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            values[key] = float(value)
            ok = True
        if not ok:
            raise ValueError(f"Key {key!r} in {path} must be {kind.__name__}. Received: {value!r}")
    return values


def resolve(config_cls, config_file=None, overrides=None):
    """Builds a config: defaults < TOML file < non-None `overrides`.

    Example:
    >>> from rnnlab.tasks.sentiment.config import SentimentConfig
    >>> resolve(SentimentConfig, overrides={"cell": "lstm", "units": None}).cell
    'lstm'
    """
    values = load_toml(config_file, config_cls) if config_file else {}
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    values = {k: None if v is SWITCHED_OFF else v for k, v in values.items()}
    return config_cls(**values)


def to_toml(config):
    """TOML text of a config; fields that are None are left out, or written as `"none"` where
    their default is not None (so that reading the file back gives None)."""
    values = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if value is not None:
            values[field.name] = value
        elif field.default is not None:
            values[field.name] = NONE
    return tomli_w.dumps(values)
