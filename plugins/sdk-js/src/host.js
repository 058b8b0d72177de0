// What the host offers a plugin: its configuration and structured logs.
//
// `./wit-host.js` is written by the build (build.mjs) and re-exports the
// `host` interface of wit/plugin.wit at the package version that file
// declares, so no version is written here.

import { configGet, log as hostLog } from "./wit-host.js";
import { PluginError } from "./errors.js";

/** The plugin's configuration, set per route or target by the operator. */
export const config = {
  /** The value of `key`, or `undefined` when the route sets none. */
  get(key) {
    return configGet(key) ?? undefined;
  },

  /**
   * The value of `key` parsed by `parse` (which throws on a bad value), or
   * `fallback` when unset; a bad value is `invalid-input` at `config/<key>`.
   */
  parseOr(key, fallback, parse) {
    const raw = config.get(key);
    if (raw === undefined) return fallback;
    try {
      return parse(raw.trim());
    } catch (e) {
      throw PluginError.invalid(`config/${key}`, "invalid-config", `${key}=${JSON.stringify(raw)}: ${e.message}`);
    }
  },
};

function emit(level, message, fields = {}) {
  hostLog(level, String(message), Object.entries(fields).map(([k, v]) => [String(k), String(v)]));
}

/** Structured logging through the host (it adds plugin, version, correlation id). */
export const log = {
  trace: (message, fields) => emit("trace", message, fields),
  debug: (message, fields) => emit("debug", message, fields),
  info: (message, fields) => emit("info", message, fields),
  warn: (message, fields) => emit("warn", message, fields),
  error: (message, fields) => emit("error", message, fields),
};
