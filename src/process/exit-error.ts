/**
 * How commands end the process with a message and a code; only the entry
 * points call `process.exit`.
 */
export class ExitError extends Error {
  override name = 'ExitError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
