"""Dataclass configs that double as CLI options and TOML recipe files.

Each field of a task's config dataclass becomes a `--flag` (its `help` comes
from the field's metadata). Values resolve in this order: the dataclass
default, then a TOML file (`--config`), then flags given on the command line.
"""

import argparse
import dataclasses
import tomllib
import types
import typing
from pathlib import Path


def _field_type(field):
    """The scalar type of a field: `int` for `int | None`, etc."""
    kind = field.type
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    return kind


def add_arguments(parser, config_cls):
    """Adds one `--flag` per field of `config_cls`; unset flags stay None."""
    for field in dataclasses.fields(config_cls):
        kind = _field_type(field)
        flag = "--" + field.name.replace("_", "-")
        help_text = f"{field.metadata.get('help', '')} (default: {field.default})"
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
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
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"Config file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, IsADirectoryError) as error:
        raise ValueError(f"Config file {path} is not valid TOML: {error}") from None
    fields = {field.name: field for field in dataclasses.fields(config_cls)}
    for key, value in values.items():
        if key not in fields:
            raise ValueError(f"Unknown key {key!r} in {path}. Expected keys: {', '.join(sorted(fields))}")
        kind = _field_type(fields[key])
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
    return config_cls(**values)


def to_toml(config):
    """TOML text of a config; fields that are None are left out."""
    import tomli_w

    return tomli_w.dumps({k: v for k, v in dataclasses.asdict(config).items() if v is not None})
