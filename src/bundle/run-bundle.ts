import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { bundleReadme, nodeConfigYaml } from './artifacts.js';
import { BundleError, CCXT_SEA_ASSET, bundleNode } from './esbuild-node.js';
import { makeExecutable } from './sea.js';

export interface BundleOptions {
  root: string;
  /** Output folder; the executable is named after its last segment. */
  out: string;
  exchanges: readonly string[];
  /** Skip the single executable (the .cjs bundle only). */
  cjsOnly?: boolean;
}

export interface BundleResult {
  dir: string;
  executable: string | undefined;
  cjs: string;
  cjsSha256: string;
  sizes: { cjs: number; executable: number | undefined };
}

/**
 * `tradectl bundle`: the execution node as a folder with a single
 * executable, the plain .cjs bundle, README.md and config/default.yaml.
 * Steps are reported as they run; any failure stops with a BundleError.
 */
export async function runBundle(options: BundleOptions, say: (line: string) => void): Promise<BundleResult> {
  const dir = resolve(options.out);
  const name = basename(dir);
  const executable = join(dir, process.platform === 'win32' ? `${name}.exe` : name);
  const cjs = join(dir, `${name}.cjs`);
  let n = 0;
  const total = options.cjsOnly ? 3 : 4;
  const step = (message: string) => say(`[${++n}/${total}] ${message}`);

  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new BundleError(`cannot write to ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }

  step(`bundling src/node/main.ts with esbuild (exchanges: ${options.exchanges.join(', ')}, paper)`);
  const bundle = await bundleNode(options.root, options.exchanges);
  if (bundle.forbidden.length > 0) {
    throw new BundleError(`the node bundle would contain center, database or Redis code:\n  ${bundle.forbidden.join('\n  ')}`);
  }
  writeFileSync(cjs, bundle.code);
  const cjsSha256 = createHash('sha256').update(bundle.code).digest('hex');
  say(`      ${basename(cjs)}: ${(bundle.code.length / 1024 / 1024).toFixed(1)} MiB from ${Object.keys(bundle.metafile.inputs).length} inputs, none from center/DB/Redis code; sha256 ${cjsSha256.slice(0, 16)}…`);

  step('writing README.md and config/default.yaml (node and log keys only)');
  mkdirSync(join(dir, 'config'), { recursive: true });
  writeFileSync(join(dir, 'README.md'), bundleReadme(basename(executable), options.exchanges));
  writeFileSync(join(dir, 'config/default.yaml'), nodeConfigYaml(options.root));

  let sizes: BundleResult['sizes'] = { cjs: bundle.code.length, executable: undefined };
  if (!options.cjsOnly) {
    step('building the single executable (Node SEA)');
    // The executable's program reads ccxt's code from an SEA asset instead of carrying it (see lazyCcxt).
    const work = mkdtempSync(join(tmpdir(), 'tradectl-bundle-'));
    try {
      const program = join(work, basename(cjs));
      const ccxt = join(work, CCXT_SEA_ASSET);
      writeFileSync(program, bundle.seaCode);
      writeFileSync(ccxt, bundle.ccxtCode);
      await makeExecutable(program, executable, (message) => say(`      ${message}`), { trainedCodeCache: true, assets: { [CCXT_SEA_ASSET]: ccxt } });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    sizes = { ...sizes, executable: statSync(executable).size };
    step('smoke check: --version and --help from an empty directory');
    smokeCheck(executable);
    say(`      ${codeCacheVerdict(executable)}`);
  } else {
    step('smoke check: node <bundle>.cjs --version from an empty directory');
    smokeCheck(process.execPath, [cjs]);
  }
  say(`done: ${dirname(executable)}${options.cjsOnly ? '' : ` (${basename(executable)} ${((sizes.executable ?? 0) / 1024 / 1024).toFixed(1)} MiB)`}`);
  return { dir, executable: options.cjsOnly ? undefined : executable, cjs, cjsSha256, sizes };
}

/**
 * Whether V8 took the recorded code cache. A rejected cache (V8 flags of the
 * build differ from the run's) costs start-up time, not correctness, so it is
 * reported rather than fatal.
 */
function codeCacheVerdict(executable: string): string {
  const result = spawnSync(executable, ['--version'], { env: { PATH: '/usr/bin:/bin', TRADECTL_SEA_DEBUG: '1' }, encoding: 'utf8', timeout: 20_000 });
  if (/code cache accepted/.test(result.stderr)) return 'code cache: accepted';
  const detail = result.stderr.trim() ? ` (${result.stderr.trim()})` : '';
  return `warning: the executable starts without a recorded code cache${detail}; it works, but starts slower`;
}

/** Runs the result where nothing else is installed and checks it starts cleanly (no warnings). */
function smokeCheck(command: string, args: string[] = []): void {
  const empty = mkdtempSync(join(tmpdir(), 'tradectl-smoke-'));
  try {
    const env = { PATH: '/usr/bin:/bin', HOME: empty };
    for (const flag of ['--version', '--help']) {
      const result = spawnSync(command, [...args, flag], { cwd: empty, env, encoding: 'utf8', timeout: 20_000 });
      if (result.status !== 0) throw new BundleError(`smoke check failed: ${flag} exited ${result.status}: ${result.stderr.trim()}`);
      if (result.stderr.trim() !== '') throw new BundleError(`smoke check failed: ${flag} printed to stderr: ${result.stderr.trim()}`);
    }
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
}
