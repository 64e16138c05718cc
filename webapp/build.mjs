// Builds the field app into dist/ (or the directory given as the first argument: the test
// rebuilds into a temporary one and compares). Deterministic: the same sources give the same
// bytes, so dist/ is committed and checked to be current.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const out = process.argv[2] || "dist";
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const common = { bundle: true, minify: true, format: "esm", target: "es2020", legalComments: "none", logLevel: "warning" };
await build({ ...common, entryPoints: ["src/main.js"], outfile: join(out, "app.js") });
cpSync("static", out, { recursive: true });

// The service worker's cache name carries a hash of the shell: a new build is a new cache.
const shell = readdirSync(out, { recursive: true })
  .filter((f) => statSync(join(out, f)).isFile() && f !== "sw.js")
  .sort();
const hash = createHash("sha256");
for (const file of shell) hash.update(file).update(readFileSync(join(out, file)));
const version = hash.digest("hex").slice(0, 12);
await build({
  ...common,
  entryPoints: ["src/sw.js"],
  outfile: join(out, "sw.js"),
  format: "iife",
  define: { SHELL_VERSION: JSON.stringify(version), SHELL_FILES: JSON.stringify(["./", ...shell]) },
});
writeFileSync(join(out, "VERSION"), version + "\n");
