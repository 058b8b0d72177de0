"""The only place that speaks the WIT shapes: adapts a plugin module
(``describe``, ``map`` and/or ``validate``) to the ``describe``, ``mapper``
and ``validator`` exports of the ``plugin`` world, through the bindings
componentize-py generates from wit/plugin.wit (``wit_world``). build.py
writes the entry module that calls ``wire`` on the plugin."""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import host as wit_host
from wit_world.imports import types

from . import host as sdk_host
from .errors import PluginError
from .message import Document, Header, Message

_LEVELS = {
    "trace": wit_host.LogLevel.TRACE,
    "debug": wit_host.LogLevel.DEBUG,
    "info": wit_host.LogLevel.INFO,
    "warn": wit_host.LogLevel.WARN,
    "error": wit_host.LogLevel.ERROR,
}
_ROLES = {"mapper": types.PluginRole.MAPPER, "validator": types.PluginRole.VALIDATOR}


def _error_to_wit(e: PluginError) -> Err:
    if e.kind == "invalid-input":
        return Err(types.PluginError_InvalidInput([types.Violation(v.path, v.code, v.message) for v in e.detail]))
    if e.kind == "unsupported":
        return Err(types.PluginError_Unsupported(e.detail))
    return Err(types.PluginError_Rejected(e.detail))


def _violations_to_wit(violations):
    return [types.Violation(v.path, v.code, v.message) for v in violations]


def wire(plugin):
    """The three export classes for ``plugin``, a module with ``describe()``
    and ``map(message)`` and/or ``validate(document)``."""
    if not callable(getattr(plugin, "describe", None)):
        raise TypeError("a plugin module defines describe()")
    sdk_host._install(
        wit_host.config_get,
        lambda level, message, fields: wit_host.log(_LEVELS[level], message, list(fields)),
    )
    map_fn = getattr(plugin, "map", None)
    validate_fn = getattr(plugin, "validate", None)

    class Describe(exports.Describe):
        def describe(self) -> types.PluginInfo:
            info = plugin.describe()
            return types.PluginInfo(
                info.name,
                info.version,
                _ROLES[info.role],
                list(info.consumes),
                list(info.produces),
                list(info.config_keys),
            )

    class Mapper(exports.Mapper):
        def map_message(self, input: types.Message):
            if map_fn is None:
                raise _error_to_wit(PluginError.unsupported("this plugin is not a mapper"))
            message = Message(
                input.kind,
                input.content_type,
                bytes(input.body),
                [Header(h.name, h.value) for h in input.headers],
                input.correlation_id,
            )
            try:
                outputs = map_fn(message)
            except PluginError as e:
                raise _error_to_wit(e) from None
            return [types.Output(o.schema_id, o.business_key, o.body) for o in outputs]

    class Validator(exports.Validator):
        def validate(self, doc: types.Document):
            if validate_fn is None:
                raise _error_to_wit(PluginError.unsupported("this plugin is not a validator"))
            try:
                return _violations_to_wit(validate_fn(Document(doc.schema_id, doc.body)))
            except PluginError as e:
                raise _error_to_wit(e) from None

    return Describe, Mapper, Validator
