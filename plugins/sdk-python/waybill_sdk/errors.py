"""Typed plugin errors: vendor data that is bad is a value, never a crash.

``PluginError`` mirrors the WIT ``plugin-error`` variant of wit/plugin.wit
(``invalid-input`` with violations, ``unsupported``, ``rejected``). Raise one
from ``map`` or ``validate``; the SDK hands it to the host as the call's
error result. Any other exception is a bug and traps the call.
"""

from dataclasses import dataclass
from typing import List, Union


@dataclass(frozen=True)
class Violation:
    """One problem found in an input or document: where, what rule, why."""

    path: str
    """JSON pointer, or a reference such as ``/line/3/status`` for CSV."""
    code: str
    """Stable machine-readable code, e.g. ``required``."""
    message: str
    """Human-readable explanation."""


class PluginError(Exception):
    """Why a plugin refused a call; mirrors ``plugin-error`` in the WIT contract."""

    def __init__(self, kind: str, detail: Union[str, List[Violation]]):
        if kind == "invalid-input":
            text = "invalid input:" + "".join(f" [{v.path} {v.code}: {v.message}]" for v in detail)
        else:
            text = f"{kind}: {detail}"
        super().__init__(text)
        self.kind = kind
        """``invalid-input``, ``unsupported`` or ``rejected``."""
        self.detail = detail
        """The violations of ``invalid-input``, else the message."""

    @staticmethod
    def invalid(path: str, code: str, message: str) -> "PluginError":
        """Invalid input with one violation."""
        return PluginError("invalid-input", [Violation(path, code, message)])

    @staticmethod
    def invalid_all(violations: List[Violation]) -> "PluginError":
        """Invalid input with every violation found (at least one)."""
        if not violations:
            raise ValueError("invalid_all needs at least one violation")
        return PluginError("invalid-input", list(violations))

    @staticmethod
    def missing(path: str) -> "PluginError":
        """A required field is missing."""
        return PluginError.invalid(path, "required", f"{path} is required")

    @staticmethod
    def unsupported(message: str) -> "PluginError":
        """The plugin does not handle this kind, content type or operation."""
        return PluginError("unsupported", str(message))

    @staticmethod
    def rejected(message: str) -> "PluginError":
        """Well formed, but declined by business rule."""
        return PluginError("rejected", str(message))
