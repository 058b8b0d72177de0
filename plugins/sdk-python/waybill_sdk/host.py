"""What the host offers a plugin: its configuration and structured logs.

Inside a component these call the ``host`` imports of wit/plugin.wit (the
bindings componentize-py generates, ``wit_world``); ``guest.py`` installs
them. Outside one (plain ``python3`` unit tests) configuration comes from
``config.use`` and logs are dropped.
"""

from typing import Callable, Dict, Iterable, Optional, Tuple, TypeVar

from .errors import PluginError

T = TypeVar("T")

_backend = {
    "config_get": None,
    "log": None,
}
_native_config: Dict[str, str] = {}


def _install(config_get: Callable[[str], Optional[str]], log_fn: Callable[[str, str, Iterable[Tuple[str, str]]], None]) -> None:
    _backend["config_get"] = config_get
    _backend["log"] = log_fn


class _Config:
    """The plugin's configuration, set per route or target by the operator."""

    def get(self, key: str) -> Optional[str]:
        """The value of ``key``, or ``None`` when the route sets none."""
        getter = _backend["config_get"]
        return getter(key) if getter else _native_config.get(key)

    def parse_or(self, key: str, default: T, parse: Callable[[str], T]) -> T:
        """``parse`` of the value of ``key``, ``default`` when unset; a value
        that does not parse is ``invalid-input`` at ``config/<key>``."""
        raw = self.get(key)
        if raw is None:
            return default
        try:
            return parse(raw.strip())
        except (ValueError, TypeError) as e:
            raise PluginError.invalid(f"config/{key}", "invalid-config", f"{key}={raw!r}: {e}") from None

    def use(self, values: Dict[str, str]) -> None:
        """Sets the configuration seen outside a component (unit tests)."""
        _native_config.clear()
        _native_config.update(values)


config = _Config()


class _Log:
    """Structured logging through the host (it adds plugin, version, correlation id)."""

    def _emit(self, level: str, message: str, fields: Optional[Dict[str, str]]) -> None:
        emit = _backend["log"]
        if emit:
            emit(level, str(message), [(str(k), str(v)) for k, v in (fields or {}).items()])

    def trace(self, message: str, fields: Optional[Dict[str, str]] = None) -> None:
        self._emit("trace", message, fields)

    def debug(self, message: str, fields: Optional[Dict[str, str]] = None) -> None:
        self._emit("debug", message, fields)

    def info(self, message: str, fields: Optional[Dict[str, str]] = None) -> None:
        self._emit("info", message, fields)

    def warn(self, message: str, fields: Optional[Dict[str, str]] = None) -> None:
        self._emit("warn", message, fields)

    def error(self, message: str, fields: Optional[Dict[str, str]] = None) -> None:
        self._emit("error", message, fields)


log = _Log()
