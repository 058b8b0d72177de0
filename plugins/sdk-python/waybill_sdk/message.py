"""The values that cross the contract: messages in, outputs and documents out."""

import json
from dataclasses import dataclass, field
from typing import Any, List, Optional

from .errors import PluginError


def is_json_media_type(content_type: str) -> bool:
    """Whether a media type is JSON (``application/json``, ``*+json``, or empty)."""
    essence = content_type.split(";")[0].strip().lower()
    return essence == "" or essence == "application/json" or essence.endswith("+json")


def parse_json(text: str) -> Any:
    """Parses JSON text; a syntax error is ``invalid-input`` (``malformed-json``)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise PluginError.invalid("", "malformed-json", f"body is not JSON: {e}") from None


@dataclass(frozen=True)
class Header:
    """One header of an inbound message (name lower-cased by the host)."""

    name: str
    value: str


@dataclass
class Message:
    """One message handed to a mapper."""

    kind: str
    content_type: str
    body: bytes
    headers: List[Header] = field(default_factory=list)
    correlation_id: str = ""

    def header(self, name: str) -> Optional[str]:
        """The first header named ``name`` (case-insensitive), or ``None``."""
        lower = name.lower()
        return next((h.value for h in self.headers if h.name.lower() == lower), None)

    def is_json(self) -> bool:
        """Whether the declared content type is JSON."""
        return is_json_media_type(self.content_type)

    def text(self) -> str:
        """The body as UTF-8 text, or ``invalid-input`` (``not-utf8``)."""
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise PluginError.invalid("", "not-utf8", f"body is not UTF-8: {e}") from None

    def json(self) -> Any:
        """The body parsed as JSON."""
        return parse_json(self.text())

    def expect_kind(self, plugin: str, kind: str) -> None:
        """An inbound plugin's first check: the message is of its one ``kind``."""
        if self.kind != kind:
            raise PluginError.unsupported(
                f"{plugin} maps {json.dumps(kind)} messages, not {json.dumps(self.kind)}"
            )

    def expect_json(self) -> None:
        """The declared content type is JSON, else ``unsupported``."""
        if not self.is_json():
            raise PluginError.unsupported(f"content type {json.dumps(self.content_type)} is not JSON")

    def expect_canonical(self, plugin: str, schema_id: str) -> None:
        """An outbound plugin's first check: the canonical ``schema_id`` in JSON."""
        if self.kind != schema_id:
            raise PluginError.unsupported(f"{plugin} maps {schema_id}, not {json.dumps(self.kind)}")
        self.expect_json()


@dataclass(frozen=True)
class Output:
    """One document a mapper produces."""

    schema_id: str
    business_key: str
    body: str
    """JSON text."""

    @staticmethod
    def json(schema_id: str, business_key: str, doc: Any) -> "Output":
        """An output whose body is ``doc`` serialised as JSON."""
        return Output(schema_id, business_key, json.dumps(doc, ensure_ascii=False, separators=(",", ":")))


@dataclass(frozen=True)
class Document:
    """A canonical document handed to a validator."""

    schema_id: str
    body: str

    def json(self) -> Any:
        """The body parsed as JSON."""
        return parse_json(self.body)
