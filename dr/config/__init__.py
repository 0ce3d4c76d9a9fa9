"""dr.yaml: its schema, loading with key-path errors, and the typed model."""

from dr.config.load import default_path, load, parse
from dr.config.model import Config, Role, other

__all__ = ["Config", "Role", "default_path", "load", "other", "parse"]
