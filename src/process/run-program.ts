import { Command, CommanderError } from 'commander';
import { VERSION } from '../core/version.js';
import { ExitError } from './exit-error.js';

/**
 * Runs a commander program and turns every way it can end into an exit code
 * and a message on stderr. No stack traces for operator mistakes.
 */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  program.version(VERSION, '-v, --version').showHelpAfterError('(run with --help for usage)').exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" to commander that already printed.
      return error.exitCode;
    }
    if (error instanceof ExitError) {
      process.stderr.write(`tradectl: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`tradectl: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
