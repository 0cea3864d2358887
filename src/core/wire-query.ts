import * as v from 'valibot';
import {
  AccountCredentialsEntries,
  AccountIdSchema,
  ClientOrderIdSchema,
  accountToWire,
  SymbolSchema,
  toCredentials,
  uniqueAccounts,
} from './wire-fields.js';
import { ErrorBodySchema } from './wire-execute.js';

/**
 * `POST /api/query-orders`: what the exchange says about orders the center
 * placed, looked up by client order id (the center's reconciliation).
 */
export const ORDER_KINDS = ['entry', 'stop_loss', 'take_profit'] as const;
export type OrderKind = (typeof ORDER_KINDS)[number];

export const MAX_ORDERS_PER_ACCOUNT = 100;

const OrderRefSchema = v.object({
  client_order_id: v.pipe(v.string('expected a string'), v.regex(/^[A-Za-z0-9._:/-]{1,36}$/, 'expected a client order id')),
  symbol: SymbolSchema,
  kind: v.optional(v.picklist(ORDER_KINDS, 'expected "entry", "stop_loss" or "take_profit"'), 'entry'),
});

export const QueryOrdersRequestSchema = v.pipe(
  v.object({
    request_id: v.optional(v.pipe(v.string(), v.maxLength(128))),
    accounts: v.pipe(
      v.array(
        v.object({
          ...AccountCredentialsEntries,
          orders: v.pipe(
            v.array(OrderRefSchema, 'expected an array of {client_order_id, symbol, kind?}'),
            v.minLength(1, 'expected at least one order'),
            v.maxLength(MAX_ORDERS_PER_ACCOUNT, `expected at most ${MAX_ORDERS_PER_ACCOUNT} orders`),
          ),
        }),
        'expected an array of accounts',
      ),
      v.minLength(1, 'expected at least one account'),
      v.check(uniqueAccounts, 'lists the same account_id twice'),
    ),
  }),
  v.transform((req) => ({
    request_id: req.request_id,
    accounts: req.accounts.map((a) => ({
      account_id: a.account_id,
      exchange: a.exchange,
      credentials: toCredentials(a),
      sandbox: a.sandbox ?? false,
      orders: a.orders,
    })),
  })),
);

export type QueryOrdersBatch = v.InferOutput<typeof QueryOrdersRequestSchema>;
export type QueryAccount = QueryOrdersBatch['accounts'][number];
export type OrderRef = QueryAccount['orders'][number];

/** The request body that `QueryOrdersRequestSchema` parses back into `batch`. */
export function queryOrdersRequestOf(batch: QueryOrdersBatch): Record<string, unknown> {
  return { request_id: batch.request_id, accounts: batch.accounts.map(({ orders, ...account }) => ({ ...accountToWire(account), orders })) };
}

/** `unknown`: the lookup itself failed (see `error`); nothing can be concluded. */
export const ORDER_STATES = ['open', 'filled', 'partially_filled', 'canceled', 'expired', 'rejected', 'not_found', 'unknown'] as const;
export type OrderState = (typeof ORDER_STATES)[number];

export const OrderReportSchema = v.object({
  client_order_id: v.string(),
  symbol: v.string(),
  kind: v.picklist(ORDER_KINDS),
  found: v.boolean(),
  state: v.picklist(ORDER_STATES),
  order_id: v.nullable(v.string()),
  amount: v.nullable(v.number()),
  filled_quantity: v.number(),
  filled_price: v.nullable(v.number()),
  fee: v.optional(v.nullable(v.object({ cost: v.number(), currency: v.nullable(v.string()) }))),
  error: v.optional(ErrorBodySchema),
});
export type OrderReport = v.InferOutput<typeof OrderReportSchema>;

export const QueryResultSchema = v.object({
  account_id: AccountIdSchema,
  success: v.boolean(),
  orders: v.array(OrderReportSchema),
  error: v.optional(ErrorBodySchema),
  latency_ms: v.number(),
});
export type QueryResult = v.InferOutput<typeof QueryResultSchema>;

export const QueryOrdersResponseSchema = v.object({
  success: v.literal(true),
  node_code: v.nullable(v.string()),
  results: v.array(QueryResultSchema),
});
export type QueryOrdersResponse = v.InferOutput<typeof QueryOrdersResponseSchema>;
