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

function run(command: string, args: string[], what: string): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) throw new BundleError(`${what}: cannot run ${command} (${result.error.message})`);
  if (result.status !== 0) throw new BundleError(`${what} failed: ${(result.stderr || result.stdout).trim()}`);
}

/**
 * Turns a CommonJS bundle into a Node single executable application: a SEA
 * blob made by this Node (`--experimental-sea-config`), injected with
 * postject into a copy of this Node's binary. The result runs on machines of
 * the same platform with nothing else installed.
 */
export async function makeExecutable(bundlePath: string, outPath: string, step: (message: string) => void): Promise<void> {
  checkPlatform();
  const work = mkdtempSync(join(tmpdir(), 'tradectl-sea-'));
  try {
    const blob = join(work, 'sea-prep.blob');
    const config = join(work, 'sea-config.json');
    writeFileSync(config, JSON.stringify({ main: bundlePath, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
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
