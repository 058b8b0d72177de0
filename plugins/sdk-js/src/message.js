// The values that cross the contract: messages in, outputs and documents out.

import { PluginError } from "./errors.js";

/** Whether a media type is JSON (`application/json`, `*+json`, or empty). */
export function isJsonMediaType(contentType) {
  const essence = String(contentType).split(";")[0].trim().toLowerCase();
  return essence === "" || essence === "application/json" || essence.endsWith("+json");
}

/** Parses JSON text; a syntax error is `invalid-input` (`malformed-json`). */
export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw PluginError.invalid("", "malformed-json", `body is not JSON: ${e.message}`);
  }
}

/**
 * A body as bytes: the engine hands `list<u8>` over as an array. The
 * typed-array constructor copies it natively; `Uint8Array.from` would run
 * a loop in the (interpreted) engine, seconds for a few MiB.
 */
function toBytes(body) {
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer || Array.isArray(body) || ArrayBuffer.isView(body)) return new Uint8Array(body);
  return new TextEncoder().encode(String(body));
}

/** One message handed to a mapper. */
export class Message {
  constructor({ kind, contentType, body, headers = [], correlationId = "" }) {
    /** message kind, e.g. `acme-tms.milestone` or a canonical schema id */
    this.kind = kind;
    /** declared media type */
    this.contentType = contentType;
    /** raw body, a Uint8Array */
    this.body = toBytes(body);
    /** `[{name, value}]`, names lower-cased by the host */
    this.headers = headers;
    /** correlation id of the message; copy it, never invent one */
    this.correlationId = correlationId;
  }

  /** The first header named `name` (case-insensitive), or `undefined`. */
  header(name) {
    const lower = name.toLowerCase();
    return this.headers.find((h) => h.name.toLowerCase() === lower)?.value;
  }

  /** Whether the declared content type is JSON. */
  isJson() {
    return isJsonMediaType(this.contentType);
  }

  /** The body as UTF-8 text, or `invalid-input` (`not-utf8`). */
  text() {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(this.body);
    } catch (e) {
      throw PluginError.invalid("", "not-utf8", `body is not UTF-8: ${e.message}`);
    }
  }

  /** The body parsed as JSON. */
  json() {
    return parseJson(this.text());
  }

  /** An inbound plugin's first check: the message is of its one `kind`. */
  expectKind(plugin, kind) {
    if (this.kind !== kind) {
      throw PluginError.unsupported(`${plugin} maps ${JSON.stringify(kind)} messages, not ${JSON.stringify(this.kind)}`);
    }
  }

  /** The declared content type is JSON, else `unsupported`. */
  expectJson() {
    if (!this.isJson()) {
      throw PluginError.unsupported(`content type ${JSON.stringify(this.contentType)} is not JSON`);
    }
  }

  /** An outbound plugin's first check: the canonical `schemaId` in JSON. */
  expectCanonical(plugin, schemaId) {
    if (this.kind !== schemaId) {
      throw PluginError.unsupported(`${plugin} maps ${schemaId}, not ${JSON.stringify(this.kind)}`);
    }
    this.expectJson();
  }
}

/** One document a mapper produces. */
export class Output {
  constructor(schemaId, businessKey, body) {
    this.schemaId = schemaId;
    this.businessKey = businessKey;
    /** JSON text */
    this.body = body;
  }

  /** An output whose body is `doc` serialised as JSON. */
  static json(schemaId, businessKey, doc) {
    return new Output(schemaId, businessKey, JSON.stringify(doc));
  }
}

/** A canonical document handed to a validator. */
export class Document {
  constructor(schemaId, body) {
    this.schemaId = schemaId;
    /** JSON text */
    this.body = body;
  }

  /** The body parsed as JSON. */
  json() {
    return parseJson(this.body);
  }
}
