#!/usr/bin/env node
// Builds one JavaScript Waybill plugin into a component with ComponentizeJS,
// against wit/plugin.wit (the one contract every plugin targets; never a
// copy), and lays it out as the host loads it:
//
//   node plugins/sdk-js/build.mjs <plugin-dir> [--out <dir>] [--wit <file>]
//
// writes <out>/<name>.wasm and <out>/<name>.fixtures/ (default out:
// <plugin-dir>/dist). <name> and the version come from the plugin's
// package.json; its entry is `main` (default src/plugin.js).
//
// The plugin imports the SDK as "@waybill/plugin-sdk". The build copies the
// plugin's src/ and the SDK into a staging directory, points that specifier
// at the copy, writes the modules only a build knows (the host imports at
// the WIT package's version, the package's name and version) and an entry
// module that wires the plugin to the world's exports.

import { componentize } from "@bytecodealliance/componentize-js";
import { cp, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { existsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const SDK_DIR = dirname(fileURLToPath(import.meta.url));
const DEFAULT_WIT = resolve(SDK_DIR, "../../wit/plugin.wit");
const SDK_SPECIFIER = "@waybill/plugin-sdk";
/** The top-level custom section naming the plugin's language for the host's limits. */
const LANGUAGE_SECTION = "waybill-language";

function fail(message) {
  console.error(`build.mjs: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const args = { out: undefined, wit: DEFAULT_WIT, dir: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--out" || a === "--wit") {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      args[a.slice(2)] = argv[++i];
    } else if (a.startsWith("--")) {
      fail(`unknown option ${a}`);
    } else if (args.dir === undefined) {
      args.dir = a;
    } else {
      fail(`unexpected argument ${a}`);
    }
  }
  if (args.dir === undefined) fail("usage: build.mjs <plugin-dir> [--out <dir>] [--wit <file>]");
  return args;
}

/** `waybill:plugin@X.Y.Z` -> `X.Y.Z`, read from the WIT file. */
export function witPackageVersion(witText, witPath) {
  const m = witText.match(/^\s*package\s+waybill:plugin@([0-9A-Za-z.+-]+)\s*;/m);
  if (!m) fail(`${witPath}: no "package waybill:plugin@<version>;" line`);
  return m[1];
}

/** Rewrites `from "@waybill/plugin-sdk"` (and `import "..."`) to `target`. */
function pointAtSdk(source, target) {
  return source.replace(
    /(\bfrom\s*|\bimport\s*)(["'])@waybill\/plugin-sdk\2/g,
    (_all, lead, quote) => `${lead}${quote}${target}${quote}`,
  );
}

async function jsFiles(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await jsFiles(path)));
    else if (entry.name.endsWith(".js") || entry.name.endsWith(".mjs")) out.push(path);
  }
  return out;
}

function leb128(n) {
  const bytes = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    bytes.push(b);
  } while (n !== 0);
  return bytes;
}

/** `component` with a top-level custom section `name` holding `payload`. */
function withCustomSection(component, name, payload) {
  const nameBytes = new TextEncoder().encode(name);
  const body = [...leb128(nameBytes.length), ...nameBytes, ...new TextEncoder().encode(payload)];
  const section = Uint8Array.from([0, ...leb128(body.length), ...body]);
  const out = new Uint8Array(component.length + section.length);
  out.set(component, 0);
  out.set(section, component.length);
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const pluginDir = resolve(args.dir);
  const manifestPath = join(pluginDir, "package.json");
  if (!existsSync(manifestPath)) fail(`${manifestPath}: not found (a JS plugin has a package.json)`);
  let manifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, "utf8"));
  } catch (e) {
    fail(`${manifestPath}: ${e.message}`);
  }
  const { name, version } = manifest;
  if (typeof name !== "string" || !/^[a-z0-9-]{1,64}$/.test(name)) {
    fail(`${manifestPath}: "name" must be 1-64 characters of a-z, 0-9 and '-'`);
  }
  if (typeof version !== "string" || !/^\d+\.\d+\.\d+([-+].*)?$/.test(version)) {
    fail(`${manifestPath}: "version" must be MAJOR.MINOR.PATCH`);
  }
  const main = manifest.main ?? "src/plugin.js";
  const srcDir = join(pluginDir, "src");
  const entryFile = resolve(pluginDir, main);
  if (!existsSync(entryFile)) fail(`${entryFile}: the plugin's entry ("main" in package.json) is missing`);
  if (!entryFile.startsWith(srcDir + sep)) fail(`${manifestPath}: "main" must be a file under src/`);

  const witPath = resolve(args.wit);
  if (!existsSync(witPath)) fail(`${witPath}: the WIT contract is missing`);
  const witVersion = witPackageVersion(await readFile(witPath, "utf8"), witPath);

  const outDir = resolve(args.out ?? join(pluginDir, "dist"));
  const staging = await mkdtemp(join(tmpdir(), `waybill-js-${name}-`));
  try {
    // The SDK, with the modules only the build can write.
    await cp(join(SDK_DIR, "src"), join(staging, "sdk"), { recursive: true });
    await writeFile(
      join(staging, "sdk", "wit-host.js"),
      `// Written by build.mjs from ${basename(witPath)}.\nexport { configGet, log } from "waybill:plugin/host@${witVersion}";\n`,
    );
    await writeFile(
      join(staging, "sdk", "package-info.js"),
      `// Written by build.mjs from package.json.\nexport const pkg = Object.freeze(${JSON.stringify({ name, version })});\n`,
    );
    // The plugin's sources, the SDK specifier pointed at the copy.
    await cp(srcDir, join(staging, "plugin"), { recursive: true });
    for (const file of await jsFiles(join(staging, "plugin"))) {
      let target = relative(dirname(file), join(staging, "sdk", "index.js")).split(sep).join("/");
      if (!target.startsWith(".")) target = `./${target}`;
      await writeFile(file, pointAtSdk(await readFile(file, "utf8"), target));
    }
    const entryInStaging = "./" + ["plugin", ...relative(srcDir, entryFile).split(sep)].join("/");
    await writeFile(
      join(staging, "entry.js"),
      [
        "// Written by build.mjs: the plugin wired to the world's exports.",
        `import * as plugin from "${entryInStaging}";`,
        `import { wire } from "./sdk/guest.js";`,
        "const exports = wire(plugin);",
        "export const describe = exports.describe;",
        "export const mapper = exports.mapper;",
        "export const validator = exports.validator;",
        "",
      ].join("\n"),
    );

    const started = Date.now();
    const previousDir = process.cwd();
    process.chdir(staging); // ComponentizeJS maps the working directory for module imports
    let component;
    try {
      ({ component } = await componentize({
        sourcePath: join(staging, "entry.js"),
        witPath,
        worldName: "plugin",
        // Plugins get no clock, randomness or network (the host grants none);
        // stdio stays so an uncaught exception reaches the host's stderr capture.
        disableFeatures: ["random", "clocks", "http", "fetch-event"],
      }));
    } finally {
      process.chdir(previousDir);
    }
    const wasm = withCustomSection(component, LANGUAGE_SECTION, "javascript");

    await mkdir(outDir, { recursive: true });
    const dest = join(outDir, `${name}.wasm`);
    const tmp = join(outDir, `.${name}.wasm.tmp`);
    await writeFile(tmp, wasm);
    await rename(tmp, dest); // a watching host never sees half a file
    const fixtures = join(pluginDir, "fixtures");
    const fixturesOut = join(outDir, `${name}.fixtures`);
    await rm(fixturesOut, { recursive: true, force: true });
    if (existsSync(fixtures) && statSync(fixtures).isDirectory()) {
      await cp(fixtures, fixturesOut, { recursive: true });
    }
    console.log(`built ${dest} (${name}@${version}, ${(wasm.length / 1024 / 1024).toFixed(1)} MiB, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

await main().catch((e) => fail(e?.stack ?? String(e)));
