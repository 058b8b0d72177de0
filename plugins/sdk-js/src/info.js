// A plugin's description of itself; mirrors `plugin-info` in the WIT contract.

import { pkg } from "./package-info.js";

export class PluginInfo {
  constructor(name, version, role, consumes, produces, configKeys = []) {
    this.name = name;
    this.version = version;
    /** `mapper` or `validator` */
    this.role = role;
    this.consumes = [...consumes];
    this.produces = [...produces];
    this.configKeys = [...configKeys];
  }

  /**
   * A mapper consuming `consumes` (message kinds) and producing `produces`
   * (schema ids). Name and version come from the plugin's package.json.
   */
  static mapper(consumes, produces) {
    return new PluginInfo(pkg.name, pkg.version, "mapper", consumes, produces);
  }

  /** A validator of documents with the given schema ids. */
  static validator(consumes) {
    return new PluginInfo(pkg.name, pkg.version, "validator", consumes, []);
  }

  /** Declares the configuration keys the plugin reads. */
  withConfigKeys(keys) {
    this.configKeys = [...keys];
    return this;
  }
}
