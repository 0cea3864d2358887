#!/usr/bin/env node
// The `tradectl` command. The TypeScript sources are compiled into dist/ by
// `npm install` (the prepare script) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`tradectl: not built yet; run \`npm install\` or \`npm run build\` in ${root}\n`);
  process.exit(1);
}
await import(entry.href);
