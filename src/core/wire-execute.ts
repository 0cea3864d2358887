import * as v from 'valibot';
import { clientOrderIdFor } from './client-order-id.js';
import type { Credentials } from './credentials.js';
import {
  AccountCredentialsEntries,
  AccountIdSchema,
  ClientOrderIdSchema,
  SymbolSchema,
  optionalPositiveDecimal,
  positiveDecimal,
  accountToWire,
  toCredentials,
  uniqueAccounts,
  type AccountId,
} from './wire-fields.js';

/**
 * `POST /api/execute`: one signal plus the accounts a node must place it on
 * (docs/design.md R5.1). Field names are the original deployment's, snake_case.
 */
const nullableFlag = v.pipe(
  v.nullish(v.boolean('expected true or false')),
  v.transform((x) => x ?? false),
);

/**
 * The signal's fields. Exported so that whatever stores or forwards a signal
 * can be checked, field by field, against the schema (see the center's
 * `db/signal-rows.ts` and `test/center/signal-fields.test.ts`).
 */
export const SignalEntries = {
  signal_id: v.union(
    [v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(128)), v.pipe(v.number(), v.safeInteger())],
    'expected a signal id: a non-empty string or an integer',
  ),
  symbol: SymbolSchema,
  side: v.pipe(v.string('expected "buy" or "sell"'), v.toLowerCase(), v.picklist(['buy', 'sell'], 'expected "buy" or "sell"')),
  quantity: positiveDecimal('a quantity'),
  order_type: v.optional(
    v.pipe(v.string(), v.toLowerCase(), v.picklist(['market', 'limit'], 'expected "market" or "limit"')),
    'market',
  ),
  price: optionalPositiveDecimal('a price'),
  stop_loss: optionalPositiveDecimal('a stop-loss trigger price'),
  take_profit: optionalPositiveDecimal('a take-profit trigger price'),
  leverage: v.pipe(
    v.nullish(v.pipe(v.number('expected an integer leverage'), v.integer('expected an integer leverage'), v.minValue(1), v.maxValue(200))),
    v.transform((x) => x ?? undefined),
  ),
  reduce_only: nullableFlag,
  /** Set on the symbol (or, where the exchange takes it per order, on the order) before the entry; absent: the account's own. */
  margin_mode: v.pipe(
    v.nullish(v.pipe(v.string('expected "cross" or "isolated"'), v.toLowerCase(), v.picklist(['cross', 'isolated'], 'expected "cross" or "isolated"'))),
    v.transform((x) => x ?? undefined),
  ),
};

export const SignalSchema = v.pipe(
  v.object(SignalEntries),
  v.forward(
    v.check((s) => s.order_type !== 'limit' || s.price !== undefined, 'is required for a limit order'),
    ['price'],
  ),
  v.forward(
    v.check(
      (s) => !s.reduce_only || (s.stop_loss === undefined && s.take_profit === undefined),
      'cannot be set on a reduce-only signal (it closes a position; there is nothing to protect)',
    ),
    ['stop_loss'],
  ),
  v.forward(
    v.check((s) => {
      if (s.stop_loss === undefined || s.take_profit === undefined) return true;
      return s.side === 'buy' ? s.stop_loss < s.take_profit : s.stop_loss > s.take_profit;
    }, 'must be below take_profit for a buy and above it for a sell'),
    ['stop_loss'],
  ),
  v.transform((s) => ({ ...s, reduce_only: s.reduce_only ?? false })),
);

export type Signal = v.InferOutput<typeof SignalSchema>;

export const ExecuteAccountSchema = v.object({
  ...AccountCredentialsEntries,
  quantity: optionalPositiveDecimal('a quantity'),
  client_order_id: v.optional(ClientOrderIdSchema),
});

/** One account's share of a signal, with its credentials sealed. */
export interface AccountOrder {
  account_id: AccountId;
  exchange: string;
  credentials: Credentials;
  sandbox: boolean;
  /** The account's own quantity, or the signal's. */
  quantity: number;
  client_order_id: string;
}

export interface ExecuteBatch {
  request_id: string | undefined;
  attempt: number;
  /** True when this request may repeat an earlier one: look every order up before placing it. */
  retry: boolean;
  signal: Signal;
  accounts: AccountOrder[];
}

export const ExecuteRequestSchema = v.pipe(
  v.object({
    request_id: v.optional(v.pipe(v.string(), v.maxLength(128))),
    attempt: v.optional(v.pipe(v.number('expected an integer >= 1'), v.integer('expected an integer >= 1'), v.minValue(1)), 1),
    retry: v.optional(v.boolean('expected true or false'), false),
    signal: SignalSchema,
    accounts: v.pipe(
      v.array(ExecuteAccountSchema, 'expected an array of accounts'),
      v.minLength(1, 'expected at least one account'),
      v.check(uniqueAccounts, 'lists the same account_id twice'),
    ),
  }),
  v.transform((req): ExecuteBatch => {
    const signal = req.signal;
    return {
      request_id: req.request_id,
      attempt: req.attempt,
      retry: req.retry || req.attempt > 1,
      signal,
      accounts: req.accounts.map((a) => ({
        account_id: a.account_id,
        exchange: a.exchange,
        credentials: toCredentials(a),
        sandbox: a.sandbox ?? false,
        quantity: a.quantity ?? signal.quantity,
        // A center of the original deployment sends no id; deriving it from (signal, account)
        // keeps its retries exactly-once too.
        client_order_id: a.client_order_id ?? clientOrderIdFor(signal.signal_id, a.account_id),
      })),
    };
  }),
);

/**
 * The request body that `ExecuteRequestSchema` parses back into `batch`: the
 * one place an execute batch becomes wire JSON (credentials included, so it
 * is built only to be sent).
 */
export function executeRequestOf(batch: ExecuteBatch): Record<string, unknown> {
  return {
    request_id: batch.request_id,
    attempt: batch.attempt,
    retry: batch.retry,
    signal: batch.signal,
    accounts: batch.accounts.map((a) => ({ ...accountToWire(a), quantity: a.quantity, client_order_id: a.client_order_id })),
  };
}

/** Final state of one account's entry order, as the center records it. */
export const RESULT_STATUSES = ['filled', 'partially_filled', 'open', 'rejected', 'failed', 'unknown'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

export const ErrorBodySchema = v.object({ code: v.string(), message: v.string() });

export const AccountResultSchema = v.object({
  account_id: AccountIdSchema,
  success: v.boolean(),
  status: v.picklist(RESULT_STATUSES),
  order_id: v.nullable(v.string()),
  client_order_id: v.string(),
  filled_price: v.nullable(v.number()),
  filled_quantity: v.number(),
  fee: v.optional(v.nullable(v.object({ cost: v.number(), currency: v.nullable(v.string()) }))),
  stop_loss_order_id: v.optional(v.nullable(v.string())),
  take_profit_order_id: v.optional(v.nullable(v.string())),
  stop_loss_error: v.optional(ErrorBodySchema),
  take_profit_error: v.optional(ErrorBodySchema),
  /** The order already existed (retry or duplicate id) and was reported, not placed again. */
  deduplicated: v.optional(v.boolean()),
  error: v.optional(ErrorBodySchema),
  latency_ms: v.number(),
  /**
   * Where `latency_ms` went, as durations (the node's and the center's
   * clocks differ): `queued` until the account's turn (execute_concurrency,
   * or an earlier request for the same order), `exchange` from its turn until
   * the exchange acknowledged the entry. Null when that point was not reached.
   * Optional: nodes of the original deployment do not send it.
   */
  timings_ms: v.optional(v.object({ queued: v.nullable(v.number()), exchange: v.nullable(v.number()) })),
});

export type AccountResult = v.InferOutput<typeof AccountResultSchema>;

export const ExecuteResponseSchema = v.object({
  success: v.literal(true),
  node_code: v.nullable(v.string()),
  request_id: v.optional(v.string()),
  results: v.array(AccountResultSchema),
});

export type ExecuteResponse = v.InferOutput<typeof ExecuteResponseSchema>;
