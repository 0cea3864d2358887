import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_EXCHANGES, FORBIDDEN_INPUT, bundleNode } from '../src/bundle/esbuild-node.js';

/**
 * The execution node must carry no center, database or Redis code (DESIGN:
 * "the bundle proves it"). This reads the metafile of the very esbuild build
 * `tradectl bundle` ships: every input that would be in the executable.
 */
test('the shipped node bundle has no input from src/center or any SQL / Redis driver', async () => {
  const bundle = await bundleNode(process.cwd(), DEFAULT_EXCHANGES);
  const inputs = Object.keys(bundle.metafile.inputs);
  assert.ok(inputs.some((i) => i.endsWith('src/node/app.ts')), 'the metafile lists the node sources');
  assert.ok(inputs.some((i) => i.includes('node_modules/ccxt/js/src/binanceusdm.js')), 'and the exchanges it carries');
  assert.ok(!inputs.some((i) => i.includes('node_modules/ccxt/js/src/mexc.js')), 'and only those');
  assert.deepEqual(inputs.filter((i) => FORBIDDEN_INPUT.test(i)), []);
  assert.deepEqual(bundle.forbidden, []);
  assert.ok(!inputs.includes('package.json'), 'the version is inlined, not the whole package.json');
  const code = Buffer.from(bundle.code).toString('utf8');
  assert.ok(!code.includes('"devDependencies"') && !code.includes('run-tests.mjs'), 'no scripts or dependency lists in the executable');
  assert.ok(code.includes(JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version)), 'the version is');
});

test('the check recognises what it must keep out', () => {
  for (const bad of ['src/center/server.ts', 'src/cli/node-commands.ts', 'node_modules/kysely/dist/esm/index.js', 'node_modules/mysql2/index.js', 'node_modules/ioredis/built/index.js', 'node_modules/better-sqlite3/lib/index.js']) {
    assert.ok(FORBIDDEN_INPUT.test(bad), bad);
  }
  assert.ok(!FORBIDDEN_INPUT.test('src/node/app.ts'));
});

test('the bundle is reproducible: the same inputs give the same bytes', async () => {
  const [a, b] = await Promise.all([bundleNode(process.cwd(), ['binanceusdm']), bundleNode(process.cwd(), ['binanceusdm'])]);
  assert.deepEqual(Buffer.from(a.code), Buffer.from(b.code));
});

/** Every relative import (static or dynamic) of every source file below `dir`. */
function importsBelow(dir: string): Array<{ file: string; target: string }> {
  const out: Array<{ file: string; target: string }> = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) out.push({ file, target: join(entry.parentPath, m[1] as string) });
  }
  return out;
}

test('the center imports nothing from src/node, and the shared layers nothing from node, center or cli', () => {
  const layers: Array<[string, RegExp]> = [
    ['src/center', /^src\/node\//],
    ['src/execution', /^src\/(node|center|cli)\//],
    ['src/http', /^src\/(node|center|cli)\//],
    ['src/metrics', /^src\/(node|center|cli)\//],
    ['src/process', /^src\/(node|center|cli)\//],
    ['src/exchange', /^src\/(node|center|cli|http|execution)\//],
    ['src/core', /^src\/(?!core\/)/],
    ['src/node', /^src\/(center|cli)\//],
  ];
  for (const [layer, forbidden] of layers) {
    const bad = importsBelow(layer).filter((i) => forbidden.test(i.target)).map((i) => `${i.file} -> ${i.target}`);
    assert.deepEqual(bad, [], `${layer} must not import these`);
  }
});
