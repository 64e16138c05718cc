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

// The service worker's precache list (what Workbox's injectManifest writes): every file of the
// shell with a hash of its bytes as its revision. A new build changes sw.js, so phones update.
const shell = readdirSync(out, { recursive: true })
  .filter((f) => statSync(join(out, f)).isFile() && f !== "sw.js")
  .sort();
const manifest = shell.map((url) => ({ url, revision: createHash("sha256").update(readFileSync(join(out, url))).digest("hex").slice(0, 16) }));
const version = createHash("sha256").update(JSON.stringify(manifest)).digest("hex").slice(0, 12);
await build({
  ...common,
  entryPoints: ["src/sw.js"],
  outfile: join(out, "sw.js"),
  format: "iife",
  define: { "self.__WB_MANIFEST": JSON.stringify(manifest), "process.env.NODE_ENV": '"production"' },
});
writeFileSync(join(out, "VERSION"), version + "\n");
