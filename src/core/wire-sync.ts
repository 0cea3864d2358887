import * as v from 'valibot';
import {
  AccountCredentialsEntries,
  AccountIdSchema,
  SymbolSchema,
  accountToWire,
  toCredentials,
  uniqueAccounts,
} from './wire-fields.js';
import { ErrorBodySchema } from './wire-execute.js';

/**
 * `POST /api/sync-balance` and `POST /api/sync-positions` (docs/design.md R5.2): the
 * center hands over credentials, the node reads the exchange and answers;
 * nothing is stored on the node.
 */
export const SyncRequestSchema = v.pipe(
  v.object({
    request_id: v.optional(v.pipe(v.string(), v.maxLength(128))),
    /** Positions only: limit the answer to these symbols. */
    symbols: v.optional(v.pipe(v.array(SymbolSchema, 'expected an array of symbols'), v.maxLength(200))),
    accounts: v.pipe(
      v.array(v.object(AccountCredentialsEntries), 'expected an array of accounts'),
      v.minLength(1, 'expected at least one account'),
      v.check(uniqueAccounts, 'lists the same account_id twice'),
    ),
  }),
  v.transform((req) => ({
    request_id: req.request_id,
    symbols: req.symbols,
    accounts: req.accounts.map((a) => ({
      account_id: a.account_id,
      exchange: a.exchange,
      credentials: toCredentials(a),
      sandbox: a.sandbox ?? false,
    })),
  })),
);
export type SyncBatch = v.InferOutput<typeof SyncRequestSchema>;
export type SyncAccount = SyncBatch['accounts'][number];

/** The request body that `SyncRequestSchema` parses back into `batch`. */
export function syncRequestOf(batch: SyncBatch): Record<string, unknown> {
  return { request_id: batch.request_id, symbols: batch.symbols, accounts: batch.accounts.map(accountToWire) };
}

export const BalanceSchema = v.object({
  currency: v.string(),
  total: v.number(),
  free: v.nullable(v.number()),
  used: v.nullable(v.number()),
});
export type Balance = v.InferOutput<typeof BalanceSchema>;

export const PositionSchema = v.object({
  symbol: v.string(),
  side: v.picklist(['long', 'short']),
  contracts: v.number(),
  contract_size: v.nullable(v.number()),
  entry_price: v.nullable(v.number()),
  mark_price: v.nullable(v.number()),
  notional: v.nullable(v.number()),
  unrealized_pnl: v.nullable(v.number()),
  leverage: v.nullable(v.number()),
  liquidation_price: v.nullable(v.number()),
  margin_mode: v.nullable(v.string()),
});
export type Position = v.InferOutput<typeof PositionSchema>;

export const BalanceResultSchema = v.object({
  account_id: AccountIdSchema,
  success: v.boolean(),
  balances: v.array(BalanceSchema),
  error: v.optional(ErrorBodySchema),
  latency_ms: v.number(),
});
export type BalanceResult = v.InferOutput<typeof BalanceResultSchema>;

export const PositionResultSchema = v.object({
  account_id: AccountIdSchema,
  success: v.boolean(),
  positions: v.array(PositionSchema),
  error: v.optional(ErrorBodySchema),
  latency_ms: v.number(),
});
export type PositionResult = v.InferOutput<typeof PositionResultSchema>;

export const SyncBalanceResponseSchema = v.object({
  success: v.literal(true),
  node_code: v.nullable(v.string()),
  results: v.array(BalanceResultSchema),
});
export const SyncPositionsResponseSchema = v.object({
  success: v.literal(true),
  node_code: v.nullable(v.string()),
  results: v.array(PositionResultSchema),
});
