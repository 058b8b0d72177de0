"""The Waybill plugin SDK for Python.

A plugin module (``src/plugin.py`` of a plugin project) defines
``describe()`` and ``map(message)`` (mappers) or ``validate(document)``
(validators); it raises ``PluginError`` for bad data. ``build.py`` wires it
to the ``plugin`` world of wit/plugin.wit with componentize-py.
"""

from .errors import PluginError, Violation
from .message import Document, Header, Message, Output, is_json_media_type, parse_json
from .info import PluginInfo
from .host import config, log
from .schema import canonical_violations, expect_canonical_document
from . import canonical
from ._package import NAME as PLUGIN_NAME, VERSION as PLUGIN_VERSION

__all__ = [
    "PluginError",
    "Violation",
    "Document",
    "Header",
    "Message",
    "Output",
    "is_json_media_type",
    "parse_json",
    "PluginInfo",
    "config",
    "log",
    "canonical_violations",
    "expect_canonical_document",
    "canonical",
    "PLUGIN_NAME",
    "PLUGIN_VERSION",
]
