import type { AccountErrorCode } from '../core/error-codes.js';

/**
 * An exchange call that did not succeed, normalised. `ambiguous` is the one
 * bit that matters for money: true when a request may have reached the
 * exchange and its answer was lost, so an order may exist.
 */
export class ExchangeFailure extends Error {
  readonly code: AccountErrorCode;
  readonly ambiguous: boolean;
  /** The exchange answered "this client order id is already in use". */
  readonly duplicateClientId: boolean;

  constructor(code: AccountErrorCode, message: string, options: { ambiguous?: boolean; duplicateClientId?: boolean } = {}) {
    super(message);
    this.name = 'ExchangeFailure';
    this.code = code;
    this.ambiguous = options.ambiguous ?? false;
    this.duplicateClientId = options.duplicateClientId ?? false;
  }
}
