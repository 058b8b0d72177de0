"""A plugin's description of itself; mirrors ``plugin-info`` in the WIT contract."""

from dataclasses import dataclass, field, replace
from typing import List

from . import _package


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    role: str
    """``mapper`` or ``validator``."""
    consumes: List[str]
    produces: List[str]
    config_keys: List[str] = field(default_factory=list)

    @staticmethod
    def mapper(consumes: List[str], produces: List[str]) -> "PluginInfo":
        """A mapper; name and version come from the plugin's pyproject.toml."""
        return PluginInfo(_package.NAME, _package.VERSION, "mapper", list(consumes), list(produces))

    @staticmethod
    def validator(consumes: List[str]) -> "PluginInfo":
        """A validator of documents with the given schema ids."""
        return PluginInfo(_package.NAME, _package.VERSION, "validator", list(consumes), [])

    def with_config_keys(self, keys: List[str]) -> "PluginInfo":
        """Declares the configuration keys the plugin reads."""
        return replace(self, config_keys=list(keys))
