import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
// node:test runs each test file in its own process: its folders go when it exits.
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new folder under the system temp dir (`tradectl-<name>-…`), removed when this test process exits. */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tradectl-${name}-`));
  made.push(dir);
  return dir;
}
