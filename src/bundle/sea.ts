import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BundleError } from './esbuild-node.js';

/** The fuse Node's SEA support looks for in its own binary. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function postjectCli(): string {
  try {
    return createRequire(import.meta.url).resolve('postject/dist/cli.js');
  } catch {
    throw new BundleError('postject is not installed (npm install postject); it injects the bundle into the executable');
  }
}

export function checkPlatform(): void {
  const [major] = process.versions.node.split('.').map(Number);
  if ((major ?? 0) < 20) throw new BundleError(`single executable applications need Node.js 20 or newer (this is ${process.version})`);
  if (!['linux', 'darwin', 'win32'].includes(process.platform)) {
    throw new BundleError(`building a single executable is not supported on ${process.platform}; use the .cjs bundle with Node.js instead`);
  }
  if (!readFileSync(process.execPath).includes(SEA_FUSE)) {
    throw new BundleError(`${process.execPath} has no SEA fuse (a distribution build without single-executable support); use an official Node.js binary`);
  }
}

function run(command: string, args: string[], what: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.error) throw new BundleError(`${what}: cannot run ${command} (${result.error.message})`);
  if (result.status !== 0) throw new BundleError(`${what} failed: ${(result.stderr || result.stdout).trim()}`);
}

// The program runs inside this wrapper both in the training run and in the
// executable: V8 accepts a code cache only for the very same source text.
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) {';
const WRAP_TAIL = '\n})';
const SCRIPT_NAME = 'execution-node.cjs';

/**
 * The executable's main script: compiles the program (an SEA asset) with the
 * code cache recorded when it was built. TRADECTL_SEA_DEBUG=1 says whether
 * V8 accepted the cache.
 */
const LOADER = `'use strict';
const { getAsset } = require('node:sea');
const { Script } = require('node:vm');
const script = new Script(${JSON.stringify(WRAP_HEAD)} + getAsset('program.cjs', 'utf8') + ${JSON.stringify(WRAP_TAIL)}, {
  filename: ${JSON.stringify(SCRIPT_NAME)},
  cachedData: Buffer.from(getAsset('program.cache')),
});
if (process.env.TRADECTL_SEA_DEBUG) process.stderr.write('code cache ' + (script.cachedDataRejected ? 'rejected' : 'accepted') + '\\n');
script.runInThisContext()(module.exports, require, module, __filename, __dirname);
`;

/**
 * The training run, under this Node at build time: starts the program's
 * \`serve\` on a loopback port, answers one GET /health, then saves V8's code
 * cache. Node's own SEA code cache holds only what compiles before the first
 * line runs; this one also holds every function that start-up and the first
 * request compiled, which is most of a node's time to first /health.
 */
const TRAINER = `'use strict';
const fs = require('node:fs');
const http = require('node:http');
const { Script } = require('node:vm');
const [program, cacheOut] = process.argv.slice(2);
const script = new Script(${JSON.stringify(WRAP_HEAD)} + fs.readFileSync(program, 'utf8') + ${JSON.stringify(WRAP_TAIL)}, { filename: ${JSON.stringify(SCRIPT_NAME)} });
const fail = (why) => { process.stderr.write(why + '\\n'); process.exit(1); };
setTimeout(() => fail('the program did not serve /health within 30 s'), 30000).unref();
let seen = '';
process.stdout.write = (chunk) => {
  if (seen === null) return true;
  seen += String(chunk);
  const url = /"url":"(http[^"]+)"/.exec(seen);
  if (!url) return true;
  seen = null;
  http.get(url[1] + '/health', (res) => {
    res.resume();
    res.on('end', () => {
      if (res.statusCode !== 200) fail('GET /health answered ' + res.statusCode);
      fs.writeFileSync(cacheOut, script.createCachedData());
      process.exit(0);
    });
  }).on('error', (error) => fail('GET /health: ' + error.message));
  return true;
};
process.argv = [process.argv[0], program, 'serve', '--host', '127.0.0.1', '--port', '0', '--log-format', 'json'];
script.runInThisContext()(module.exports, require, module, program, require('node:path').dirname(program));
`;

export interface ExecutableOptions {
  /** Extra SEA assets the program reads with `node:sea` getAsset: name → file. */
  assets?: Record<string, string>;
  /**
   * Record V8's code cache in a training run of the program (`serve` on a
   * loopback port until its first /health) and ship it; the program must be
   * the execution node. Without it, Node's own SEA code cache is used.
   */
  trainedCodeCache?: boolean;
}

/**
 * Turns a CommonJS bundle into a Node single executable application: a SEA
 * blob made by this Node (`--experimental-sea-config`), injected with
 * postject into a copy of this Node's binary. The result runs on machines of
 * the same platform with nothing else installed.
 */
export async function makeExecutable(bundlePath: string, outPath: string, step: (message: string) => void, options: ExecutableOptions = {}): Promise<void> {
  checkPlatform();
  const work = mkdtempSync(join(tmpdir(), 'tradectl-sea-'));
  try {
    const blob = join(work, 'sea-prep.blob');
    const config = join(work, 'sea-config.json');
    const assets = options.assets ?? {};
    let seaConfig: Record<string, unknown> = { main: bundlePath, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets };
    if (options.trainedCodeCache) {
      step('recording the code cache (a training run: serve on 127.0.0.1 until the first /health)');
      const cache = join(work, 'program.cache');
      writeFileSync(join(work, 'train.cjs'), TRAINER);
      writeFileSync(join(work, 'loader.cjs'), LOADER);
      const empty = mkdtempSync(join(work, 'run-'));
      try {
        // A clean environment: no config file, no NODE_OPTIONS (V8 flags must match the executable's).
        run(process.execPath, [join(work, 'train.cjs'), bundlePath, cache], 'the training run', { cwd: empty, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: empty } });
        seaConfig = { main: join(work, 'loader.cjs'), output: blob, disableExperimentalSEAWarning: true, assets: { ...assets, 'program.cjs': bundlePath, 'program.cache': cache } };
      } catch (error) {
        // The cache buys start-up time only; an executable without it is still correct.
        step(`warning: ${(error as Error).message}; using Node's own SEA code cache instead`);
      }
    }
    writeFileSync(config, JSON.stringify(seaConfig));
    step('preparing the SEA blob');
    run(process.execPath, ['--experimental-sea-config', config], 'node --experimental-sea-config');
    step(`copying ${process.execPath}`);
    copyFileSync(process.execPath, outPath);
    chmodSync(outPath, 0o755);
    if (process.platform === 'darwin') run('codesign', ['--remove-signature', outPath], 'codesign --remove-signature');
    step('injecting the blob (postject)');
    // Run as a child: postject's ELF parser prints harmless warnings we only
    // want to see when it fails.
    run(process.execPath, [postjectCli(), outPath, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE, ...(process.platform === 'darwin' ? ['--macho-segment-name', 'NODE_SEA'] : [])], 'postject');
    if (process.platform === 'darwin') run('codesign', ['--sign', '-', outPath], 'codesign --sign');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
