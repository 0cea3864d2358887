/**
 * Every error code tradectl puts on the wire, with what it means for money.
 * `docs/protocol.md` documents the same list; keep them together.
 */

/** Codes for a whole HTTP request that was refused. */
export const REQUEST_ERROR_CODES = {
  invalid_json: 'The body is not valid JSON.',
  invalid_request: 'A field is missing, has the wrong type or is out of range; `field` names it.',
  payload_too_large: 'The body is larger than the node accepts (`max_body_bytes`).',
  too_many_accounts: 'More accounts in one request than the node accepts (`max_accounts_per_request`).',
  unauthorized: 'Missing or wrong credentials for the node (token or signature).',
  signature_expired: 'The signature timestamp is outside the receiver\'s window (±5 minutes, or before it started). Nothing was done; sign again and resend.',
  forbidden: 'The caller address is not in `node_allowed_ips`.',
  host_not_allowed: 'The Host header is not a name of this server (`allowed_hosts` / `center_allowed_hosts`); refused against DNS rebinding.',
  origin_not_allowed: 'A browser sent the request from another origin; refused against cross-site requests.',
  unsupported_media_type: 'A request body that is not `application/json`; refused so that a web page cannot post a simple form or text request.',
  not_found: 'No such route, or no such record (node, account, user, strategy, signal).',
  conflict: 'The request contradicts what is stored (a duplicate name, a disabled strategy, a node that still has accounts).',
  shutting_down: 'The node is stopping and takes no new work; retry on another node or later.',
  internal_error: 'A bug in tradectl; the log has the details (never secrets).',
} as const;

/** Codes for one account's result; they never fail the other accounts. */
export const ACCOUNT_ERROR_CODES = {
  auth_failed: 'The exchange refused the API key, secret, passphrase, IP or permissions. Nothing was placed.',
  insufficient_funds: 'Not enough margin or balance. Nothing was placed.',
  invalid_order: 'The exchange refused the order parameters (size, price, precision, reduce-only, …). Nothing was placed.',
  market_not_found: 'The exchange has no such symbol. Nothing was placed.',
  below_minimum: "The account's quantity, rounded down to the market's precision, is below the market's minimum amount or order value; the message gives the minimum in the base currency. Nothing was placed.",
  rate_limited: 'The exchange refused the request for rate limits. Nothing was placed; safe to retry later.',
  exchange_unavailable: 'The exchange could not be reached before anything was sent. Nothing was placed.',
  exchange_not_supported: 'This node does not support that exchange id. Nothing was placed.',
  exchange_error: 'The exchange refused the request for another reason; its message is kept. Nothing was placed.',
  timeout: 'The account ran out of time before any order was sent. Nothing was placed.',
  unknown_outcome:
    'An order request was sent but its answer was lost (timeout, 5xx, connection reset). The order may exist: reconcile by client order id, never re-place blindly.',
  order_not_found: 'The exchange has no order with that client order id (query-orders).',
  stop_loss_required: 'The account is sized by risk_percent (equity lost if the stop-loss hits) and the signal has no stop_loss. Nothing was placed.',
  position_limit: "The account's open, capped at its binding's max_position_notional, is below the market's minimum (round_up cannot reach it within the cap). Nothing was placed.",
  entry_not_filled: 'Stop-loss / take-profit were not placed because the entry has not filled.',
  internal_error: 'A bug in tradectl while handling this account; the log has the details.',
  // Center-side outcomes of an order (data API, GET /api/signals/{id}):
  node_unavailable: 'The account\'s node is disabled or its heartbeat is stale; nothing was sent.',
  node_refused: 'The node refused the request (auth, bad input, shutting down); nothing was executed.',
  node_outdated: "The account's order uses a field its node does not announce in its heartbeat (sizing, leverage or margin mode per binding): an earlier node would ignore it and place the wrong size. Nothing was sent; upgrade the node.",
  insufficient_points: 'The account owner has no points and require_points is on; nothing was sent.',
  expired: 'The order was never confirmed and its signal is older than signal_max_age; not placed late.',
  apply_failed: 'What the node or exchange reported could not be recorded (an amount beyond what the books hold); the order stays unknown and is looked up again after reconcile_after.',
} as const;

export type RequestErrorCode = keyof typeof REQUEST_ERROR_CODES;
export type AccountErrorCode = keyof typeof ACCOUNT_ERROR_CODES;

export interface ErrorBody {
  code: AccountErrorCode;
  message: string;
}
