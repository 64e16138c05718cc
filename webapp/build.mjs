// Builds the field app into dist/ (or the directory given as the first argument: the test
// rebuilds into a temporary one and compares). Deterministic: the same sources give the same
// bytes, so dist/ is committed and checked to be current. Nothing is copied as written: the
// screens' htm templates are compiled to Preact calls (no template parsing on the phone), and
// the stylesheet and page are minified; only the manifest and the icons go over as they are.
import { transformAsync } from "@babel/core";
import { build } from "esbuild";
import { minify } from "html-minifier-terser";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const out = process.argv[2] || "dist";
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// htm's own Babel plugin turns html`<p>${x}</p>` into h("p", null, x) at build time, with the
// same parser the browser would run, so the screens render the same. Once they are compiled
// nothing calls htm on the phone, so its import goes and its parser leaves the bundle.
const dropHtmImport = { visitor: { ImportDeclaration: (p) => p.node.source.value === "htm/preact" && p.remove() } };
const htm = {
  name: "htm",
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.js$/ }, async ({ path }) => {
      const source = readFileSync(path, "utf8");
      if (!source.includes("html`")) return undefined;
      const compiled = await transformAsync(source, {
        filename: path,
        babelrc: false,
        configFile: false,
        compact: false,
        plugins: [["babel-plugin-htm", { import: "preact", useNativeSpread: true }], () => dropHtmImport],
      });
      return { contents: compiled.code, loader: "js" };
    });
  },
};

const common = { bundle: true, minify: true, format: "esm", target: "es2020", legalComments: "none", logLevel: "warning" };
await build({ ...common, entryPoints: ["src/main.js"], outfile: join(out, "app.js"), plugins: [htm] });
await build({ ...common, bundle: false, entryPoints: ["static/styles.css"], outfile: join(out, "styles.css") });
const page = await minify(readFileSync("static/index.html", "utf8"), { collapseWhitespace: true, removeComments: true });
writeFileSync(join(out, "index.html"), page + "\n");
cpSync("static/manifest.webmanifest", join(out, "manifest.webmanifest"));
cpSync("static/icons", join(out, "icons"), { recursive: true });

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
