import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from 'esbuild';

/**
 * The execution node must carry no center, database or Redis code (DESIGN:
 * "the bundle proves it"). esbuild follows every static and literal dynamic
 * import from the node's own entry; its metafile lists every input that
 * would ship.
 */
const FORBIDDEN = [/(^|\/)src\/center\//, /node_modules\/(kysely|mysql2|ioredis|better-sqlite3|pg|redis|@redis|sqlite3|mariadb|bullmq)\//];

test('the node entry reaches no center, database or Redis code', async () => {
  const result = await build({
    entryPoints: ['src/node/main.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'silent',
    outfile: 'out.cjs',
    // Optional ccxt dependencies of exchanges (MEXC, dYdX) that npm does not
    // install; they are not part of what this test is about.
    external: ['protobufjs', 'protobufjs/*'],
  });
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.some((i) => i.includes('src/node/app.ts')), 'the metafile lists the node sources');
  assert.ok(inputs.some((i) => i.includes('node_modules/ccxt/')), 'and its dependencies');
  const bad = inputs.filter((input) => FORBIDDEN.some((re) => re.test(input)));
  assert.deepEqual(bad, []);
});
