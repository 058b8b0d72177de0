// The only place that speaks the WIT shapes: adapts a plugin module
// (`describe`, `map` and/or `validate`) to the `describe`, `mapper` and
// `validator` exports of the `plugin` world. build.mjs generates the entry
// module that calls `wire` on the plugin.

import { PluginError } from "./errors.js";
import { Document, Message } from "./message.js";

function errorToWit(e) {
  if (!(e instanceof PluginError)) throw e; // a bug, not bad data: trap
  return e.kind === "invalid-input"
    ? { tag: "invalid-input", val: e.detail.map(({ path, code, message }) => ({ path, code, message })) }
    : { tag: e.kind, val: e.detail };
}

function strings(list, what) {
  if (!Array.isArray(list) || !list.every((s) => typeof s === "string")) {
    throw new TypeError(`${what} must be a list of strings`);
  }
  return list;
}

/** The WIT exports for `plugin`, a module with `describe()` and `map`/`validate`. */
export function wire(plugin) {
  if (typeof plugin.describe !== "function") {
    throw new TypeError("a plugin module exports describe()");
  }
  return {
    describe: {
      describe() {
        const info = plugin.describe();
        return {
          name: info.name,
          version: info.version,
          role: info.role,
          consumes: strings(info.consumes, "consumes"),
          produces: strings(info.produces, "produces"),
          configKeys: strings(info.configKeys ?? [], "configKeys"),
        };
      },
    },
    mapper: {
      mapMessage(input) {
        if (typeof plugin.map !== "function") {
          throw errorToWit(PluginError.unsupported("this plugin is not a mapper"));
        }
        let outputs;
        try {
          outputs = plugin.map(new Message(input));
        } catch (e) {
          throw errorToWit(e);
        }
        return outputs.map((o) => ({ schemaId: o.schemaId, businessKey: o.businessKey, body: o.body }));
      },
    },
    validator: {
      validate(doc) {
        if (typeof plugin.validate !== "function") {
          throw errorToWit(PluginError.unsupported("this plugin is not a validator"));
        }
        try {
          return plugin.validate(new Document(doc.schemaId, doc.body)).map(({ path, code, message }) => ({ path, code, message }));
        } catch (e) {
          throw errorToWit(e);
        }
      },
    },
  };
}
