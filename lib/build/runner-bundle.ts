import { build, type Metafile } from "esbuild";
import { mkdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";

/** Where `pnpm build:runner` writes: one folder with one file, copied as is into the image. */
export const RUNNER_DIR = "dist/runner";
export const RUNNER_FILE = "runner.mjs";

/**
 * scripts/job-run.ts and everything it imports, the registry's products and their SDKs, in one ES
 * module for Node 20: it runs from a folder with no node_modules and no TypeScript toolchain. The
 * `@/` paths come from tsconfig.json. CommonJS packages that `require` Node's modules get a
 * `require` of their own (an ES module has none).
 */
export async function buildRunner(opts: { root: string; outDir?: string; minify?: boolean }): Promise<{ file: string; bytes: number; metafile: Metafile }> {
  const outDir = resolve(opts.root, opts.outDir ?? RUNNER_DIR);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, RUNNER_FILE);
  const r = await build({
    absWorkingDir: opts.root,
    entryPoints: [join(opts.root, "scripts/job-run.ts")],
    outfile: file,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    minify: opts.minify ?? false,
    sourcemap: false,
    legalComments: "none",
    metafile: true,
    logLevel: "silent",
    banner: { js: 'import { createRequire as __cronlayerRequire } from "node:module"; const require = __cronlayerRequire(import.meta.url);' },
  });
  const bytes = Object.values(r.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  return { file, bytes, metafile: r.metafile };
}
