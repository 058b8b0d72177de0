"""Checks a canonical document's top level against what schemas/ says of it
(required fields, enumerated values), from the generated ``SCHEMAS`` table:
the same first checks the Rust SDK gets from serde, with JSON pointers."""

import json
from typing import Any, List

from .canonical import SCHEMAS
from .errors import PluginError, Violation


def canonical_violations(doc: Any, schema_id: str) -> List[Violation]:
    """The violations of ``doc`` against ``schema_id``: not an object, a
    required field missing (or null), a property outside an enumeration."""
    schema = SCHEMAS.get(schema_id)
    if schema is None:
        raise KeyError(f"no canonical schema {schema_id} in schemas/")
    if not isinstance(doc, dict):
        return [Violation("", "invalid-type", f"a {schema_id} document is a JSON object")]
    found = []
    for name in schema["required"]:
        if doc.get(name) is None:
            found.append(Violation(f"/{name}", "required", f"/{name} is required"))
    for name, allowed in schema["enums"].items():
        value = doc.get(name)
        if value is not None and value not in allowed:
            found.append(Violation(f"/{name}", "unknown-code", f"{json.dumps(value)} is not one of {', '.join(allowed)}"))
    return found


def expect_canonical_document(doc: Any, schema_id: str) -> Any:
    """``doc`` itself when it passes ``canonical_violations``, else ``invalid-input``."""
    found = canonical_violations(doc, schema_id)
    if found:
        raise PluginError.invalid_all(found)
    return doc
