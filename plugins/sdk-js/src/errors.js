// Typed plugin errors: vendor data that is bad is a value, never a crash.
//
// `PluginError` mirrors the WIT `plugin-error` variant of wit/plugin.wit
// (`invalid-input` with violations, `unsupported`, `rejected`). Throw one
// from `map` or `validate`; the SDK hands it to the host as the call's
// error result. Anything else thrown is a bug and traps the call.

/** One problem found in an input or document: where, what rule, why. */
export class Violation {
  /**
   * @param {string} path JSON pointer, or a segment reference such as `/line/3/status`
   * @param {string} code stable machine-readable code, e.g. `required`
   * @param {string} message human-readable explanation
   */
  constructor(path, code, message) {
    this.path = String(path);
    this.code = String(code);
    this.message = String(message);
  }
}

/** Why a plugin refused a call; mirrors `plugin-error` in the WIT contract. */
export class PluginError extends Error {
  /** @private use the static constructors */
  constructor(kind, detail) {
    super(
      kind === "invalid-input"
        ? "invalid input:" + detail.map((v) => ` [${v.path} ${v.code}: ${v.message}]`).join("")
        : `${kind}: ${detail}`,
    );
    this.name = "PluginError";
    /** `invalid-input`, `unsupported` or `rejected` */
    this.kind = kind;
    /** the violations of `invalid-input`, else the message */
    this.detail = detail;
  }

  /** Invalid input with one violation. */
  static invalid(path, code, message) {
    return new PluginError("invalid-input", [new Violation(path, code, message)]);
  }

  /** Invalid input with every violation found (at least one). */
  static invalidAll(violations) {
    if (violations.length === 0) throw new TypeError("invalidAll needs at least one violation");
    return new PluginError("invalid-input", violations.map((v) => new Violation(v.path, v.code, v.message)));
  }

  /** A required field is missing. */
  static missing(path) {
    return PluginError.invalid(path, "required", `${path} is required`);
  }

  /** The plugin does not handle this kind, content type or operation. */
  static unsupported(message) {
    return new PluginError("unsupported", String(message));
  }

  /** Well formed, but declined by business rule. */
  static rejected(message) {
    return new PluginError("rejected", String(message));
  }
}
