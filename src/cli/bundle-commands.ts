import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ExitError } from '../process/exit-error.js';

/** The project root (where package.json and src/ are), from this compiled file's place. */
function projectRoot(): string {
  // dist/cli/main.js and src/cli/*.ts both sit two levels below the root.
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** `tradectl bundle`: esbuild + Node SEA → a standalone execution node. */
export function registerBundleCommand(program: Command): void {
  program
    .command('bundle')
    .description('build the execution node as a standalone executable (no DB or Redis code) plus a .cjs bundle, README and config')
    .option('--out <dir>', 'output folder; the executable takes its name', 'dist/execution-node')
    .option('--exchanges <ids>', 'comma-separated ccxt exchange ids to include', 'binanceusdm,binance,okx,bybit,bitget')
    .option('--cjs-only', 'skip the single executable (only the .cjs bundle, README and config)')
    .action(async (flags: { out: string; exchanges: string; cjsOnly?: boolean }) => {
      const exchanges = [...new Set(flags.exchanges.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean))].filter((x) => x !== 'paper');
      if (exchanges.length === 0) throw new ExitError('--exchanges: name at least one ccxt exchange id, e.g. binanceusdm', 2);
      const { runBundle } = await import('../bundle/run-bundle.js');
      const { BundleError } = await import('../bundle/esbuild-node.js');
      try {
        await runBundle({ root: projectRoot(), out: flags.out, exchanges, cjsOnly: flags.cjsOnly ?? false }, (line) => process.stdout.write(`${line}\n`));
      } catch (error) {
        if (error instanceof BundleError) throw new ExitError(`bundle failed: ${error.message}`);
        throw error;
      }
    });
}
