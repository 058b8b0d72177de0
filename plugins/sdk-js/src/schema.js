// Checks a canonical document's top level against what schemas/ says of it
// (required fields, enumerated values), from the generated `SCHEMAS` table:
// the same first checks the Rust SDK gets from serde, with JSON pointers.

import { SCHEMAS } from "./canonical.js";
import { PluginError, Violation } from "./errors.js";

/**
 * The violations of `doc` against schema `schemaId`: not an object, a
 * required field missing (or null), a property outside an enumeration.
 */
export function canonicalViolations(doc, schemaId) {
  const schema = SCHEMAS[schemaId];
  if (!schema) throw new TypeError(`no canonical schema ${schemaId} in schemas/`);
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    return [new Violation("", "invalid-type", `a ${schemaId} document is a JSON object`)];
  }
  const found = [];
  for (const field of schema.required) {
    if (doc[field] === undefined || doc[field] === null) {
      found.push(new Violation(`/${field}`, "required", `/${field} is required`));
    }
  }
  for (const [field, allowed] of Object.entries(schema.enums)) {
    const value = doc[field];
    if (value !== undefined && value !== null && !allowed.includes(value)) {
      found.push(new Violation(`/${field}`, "unknown-code", `${JSON.stringify(value)} is not one of ${allowed.join(", ")}`));
    }
  }
  return found;
}

/** `doc` itself when it passes [`canonicalViolations`], else `invalid-input`. */
export function expectCanonicalDocument(doc, schemaId) {
  const found = canonicalViolations(doc, schemaId);
  if (found.length > 0) throw PluginError.invalidAll(found);
  return doc;
}
