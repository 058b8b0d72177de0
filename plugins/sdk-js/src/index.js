// The Waybill plugin SDK for JavaScript. A plugin module imports what it
// needs from "@waybill/plugin-sdk" (resolved by build.mjs) and exports
// `describe()` plus `map(message)` (mappers) or `validate(document)`
// (validators); errors are thrown `PluginError`s.

export { PluginError, Violation } from "./errors.js";
export { Document, Message, Output, isJsonMediaType, parseJson } from "./message.js";
export { PluginInfo } from "./info.js";
export { config, log } from "./host.js";
export { canonicalViolations, expectCanonicalDocument } from "./schema.js";
export { pkg } from "./package-info.js";
export * as canonical from "./canonical.js";
