import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/tradectl.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `tradectl …` as a real process (the built bin) and collects its output. */
export function runCli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Starts a long-running `tradectl …` and resolves once a stdout line matches. */
export function startCli(args: string[], env: Record<string, string>, ready: RegExp, cwd?: string): Promise<{ child: ChildProcess; output: () => string; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, cwd });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`not ready: ${out}${err}`)), 15_000);
    child.stdout?.on('data', (d) => {
      out += d;
      const match = out.match(ready);
      if (match) {
        clearTimeout(timer);
        resolve({ child, output: () => out + err, match });
      }
    });
    child.stderr?.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ready: ${out}${err}`));
    });
  });
}
