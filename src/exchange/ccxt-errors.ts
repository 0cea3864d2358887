import { loadedCcxt } from './ccxt-module.js';
import { scrubSecrets, type Credentials } from '../core/credentials.js';
import { ExchangeFailure } from './exchange-failure.js';

/**
 * Exchange answers that mean "this client order id is already taken". ccxt
 * maps some exchanges' codes to `DuplicateOrderId`; others it raises as a
 * plain `ExchangeError` or `InvalidOrder`: Binance USD-M -4116, OKX 51016
 * (by its code: the wording has changed over time) and 51065 / 51068 for
 * algo and attached-algo ids, Bybit 110072
 * "OrderLinkedID is duplicate", Bitget 40786 "Duplicate clientOid".
 */
const DUPLICATE_CLIENT_ID =
  /"code"\s*:\s*-4116\b|clientorderid is duplicated|duplicate(d)? (client ?order ?id|clordid|clientoid|order sent)|client order id already exists|"sCode"\s*:\s*"5(1016|1065|1068)"|"retCode"\s*:\s*110072\b|orderlinkedid is duplicate|"code"\s*:\s*"40786"/i;

/** The connection was never made, so nothing can have reached the exchange. */
const NEVER_CONNECTED = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|certificate|self[- ]signed/i;

/**
 * Turns anything ccxt (or the network) threw into an `ExchangeFailure`.
 *
 * The rule for money: only errors that prove the exchange refused the
 * request are unambiguous. Everything else (timeouts, 5xx, resets, a parse
 * error after the answer arrived, a bug) is ambiguous, because the order may
 * have been accepted before the answer was lost.
 */
export function normaliseError(error: unknown, credentials?: Credentials): ExchangeFailure {
  if (error instanceof ExchangeFailure) return error;
  const raw = error instanceof Error ? error.message : String(error);
  // ccxt names the passphrase by its own option, `password`; the API and tradectl call it `passphrase`.
  const message = scrubSecrets(raw, credentials).replace(/requires "password" credential/g, 'requires a passphrase (the account\'s "passphrase" field)').slice(0, 1000);
  const ccxt = loadedCcxt();
  // Before ccxt is loaded nothing can have reached an exchange.
  if (!ccxt) return new ExchangeFailure('internal_error', message);
  const {
    AuthenticationError,
    BadRequest,
    BadSymbol,
    BaseError,
    DDoSProtection,
    DuplicateOrderId,
    ExchangeError,
    InsufficientFunds,
    InvalidNonce,
    InvalidOrder,
    NetworkError,
    NotSupported,
    OnMaintenance,
    OperationRejected,
    RateLimitExceeded,
    RequestTimeout,
  } = ccxt;

  if (error instanceof DuplicateOrderId || (error instanceof ExchangeError && DUPLICATE_CLIENT_ID.test(raw))) {
    return new ExchangeFailure('invalid_order', message, { duplicateClientId: true });
  }
  if (error instanceof AuthenticationError) return new ExchangeFailure('auth_failed', message);
  if (error instanceof InsufficientFunds) return new ExchangeFailure('insufficient_funds', message);
  if (error instanceof BadSymbol) return new ExchangeFailure('market_not_found', message);
  if (error instanceof InvalidOrder || error instanceof BadRequest || error instanceof OperationRejected) {
    return new ExchangeFailure('invalid_order', message);
  }
  if (error instanceof NotSupported) return new ExchangeFailure('invalid_order', message);
  if (error instanceof ExchangeError) return new ExchangeFailure('exchange_error', message);
  if (error instanceof DDoSProtection || error instanceof RateLimitExceeded) return new ExchangeFailure('rate_limited', message);
  if (error instanceof InvalidNonce) return new ExchangeFailure('exchange_error', message);
  if (error instanceof OnMaintenance) return new ExchangeFailure('exchange_unavailable', message);
  if (error instanceof RequestTimeout) return new ExchangeFailure('unknown_outcome', message, { ambiguous: true });
  if (error instanceof NetworkError) {
    if (NEVER_CONNECTED.test(raw)) return new ExchangeFailure('exchange_unavailable', message);
    return new ExchangeFailure('unknown_outcome', message, { ambiguous: true });
  }
  if (error instanceof BaseError) return new ExchangeFailure('unknown_outcome', message, { ambiguous: true });
  return new ExchangeFailure('internal_error', message, { ambiguous: true });
}
