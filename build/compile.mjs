// Compiles src/ into dist/ for the `tradectl` bin: one ESM bundle per entry,
// dependencies left in node_modules, lazily imported commands split into
// their own chunks. Runs on `npm install` (prepare) and before `npm test`.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(new URL('../dist/cli', import.meta.url), { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: { 'cli/main': 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  chunkNames: 'cli/chunks/[name]-[hash]',
});
