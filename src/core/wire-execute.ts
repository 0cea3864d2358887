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
import { SizingReportSchema, SizingSpecSchema, sizingSpecToWire, type SizingSpec } from './sizing.js';

/**
 * `POST /api/execute`: one signal plus the accounts a node must place it on
 * (docs/design.md R5.1). Field names are the original deployment's, snake_case.
 */
/** What a signal does to each account's position on its symbol. */
export const SIGNAL_ACTIONS = ['open', 'close', 'reduce', 'reverse', 'update_protection', 'cancel'] as const;
export type SignalAction = (typeof SIGNAL_ACTIONS)[number];

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
  /** What the signal does to each account's position on the symbol (docs/protocol.md, "Actions"); absent: `open`. */
  action: v.optional(
    v.pipe(v.string(`expected one of ${SIGNAL_ACTIONS.join(', ')}`), v.toLowerCase(), v.picklist(SIGNAL_ACTIONS, `expected one of ${SIGNAL_ACTIONS.join(', ')}`)),
    'open',
  ),
  symbol: SymbolSchema,
  /** open / reverse: the direction of the new position. close / reduce: the closing order's side (sell closes a long). */
  side: v.optional(v.pipe(v.string('expected "buy" or "sell"'), v.toLowerCase(), v.picklist(['buy', 'sell'], 'expected "buy" or "sell"'))),
  /** open / reverse: the new position's size; reduce: how much of each position to close (or `close_fraction`). */
  quantity: optionalPositiveDecimal('a quantity'),
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
  /** close / reduce / update_protection / cancel: which position (hedge-mode accounts hold both); absent: every position on the symbol. */
  position_side: v.pipe(
    v.nullish(v.pipe(v.string('expected "long" or "short"'), v.toLowerCase(), v.picklist(['long', 'short'], 'expected "long" or "short"'))),
    v.transform((x) => x ?? undefined),
  ),
  /** reduce: the share of each account's position to close, the same for every follower. */
  close_fraction: v.pipe(
    v.nullish(v.pipe(v.number('expected a fraction greater than 0 and at most 1'), v.gtValue(0, 'expected a fraction greater than 0 and at most 1'), v.maxValue(1, 'expected a fraction greater than 0 and at most 1'))),
    v.transform((x) => x ?? undefined),
  ),
  /** cancel: which resting orders of the symbol go; absent: `entries`. */
  cancel: v.pipe(
    v.nullish(v.pipe(v.string('expected "entries", "protection" or "all"'), v.toLowerCase(), v.picklist(['entries', 'protection', 'all'], 'expected "entries", "protection" or "all"'))),
    v.transform((x) => x ?? undefined),
  ),
};

type SignalFields = v.InferOutput<v.ObjectSchema<typeof SignalEntries, undefined>>;

/** The optional fields each action takes; any other set field is refused, naming it. */
const ACTION_TAKES: Readonly<Record<SignalAction, ReadonlySet<keyof SignalFields>>> = {
  open: new Set(['side', 'quantity', 'order_type', 'price', 'stop_loss', 'take_profit', 'leverage', 'reduce_only', 'margin_mode']),
  reverse: new Set(['side', 'quantity', 'order_type', 'price', 'stop_loss', 'take_profit', 'leverage', 'margin_mode']),
  close: new Set(['side', 'position_side']),
  reduce: new Set(['side', 'position_side', 'quantity', 'close_fraction']),
  update_protection: new Set(['position_side', 'stop_loss', 'take_profit']),
  cancel: new Set(['position_side', 'cancel']),
};

/** Fields whose "not set" value is not `undefined` (defaults applied by the schema). */
const UNSET: Partial<Record<keyof SignalFields, unknown>> = { order_type: 'market', reduce_only: false };

const OPTIONAL_FIELDS: ReadonlyArray<keyof SignalFields> = ['side', 'quantity', 'order_type', 'price', 'stop_loss', 'take_profit', 'leverage', 'reduce_only', 'margin_mode', 'position_side', 'close_fraction', 'cancel'];

const isSet = (s: SignalFields, field: keyof SignalFields) => s[field] !== undefined && s[field] !== UNSET[field];

/** The position a close or reduce order's side closes: selling closes a long. */
const closedBy = (side: 'buy' | 'sell') => (side === 'sell' ? 'long' : 'short');

interface SignalRule {
  field: keyof SignalFields;
  holds(s: SignalFields): boolean;
  message: string;
}

const opens = (s: SignalFields) => s.action === 'open' || s.action === 'reverse';

/** Rules across fields, each naming the field it is about; the first broken one per field is reported. */
const SIGNAL_RULES: readonly SignalRule[] = [
  ...OPTIONAL_FIELDS.map((field): SignalRule => ({
    field,
    holds: (s) => !isSet(s, field) || ACTION_TAKES[s.action].has(field),
    message: 'is not used by this action (see docs/protocol.md, "Actions")',
  })),
  { field: 'side', holds: (s) => !opens(s) || s.side !== undefined, message: 'is required' },
  { field: 'quantity', holds: (s) => !opens(s) || s.quantity !== undefined, message: 'is required' },
  {
    field: 'quantity',
    holds: (s) => s.action !== 'reduce' || (s.quantity === undefined) !== (s.close_fraction === undefined),
    message: 'a reduce takes either quantity or close_fraction, not both and not neither',
  },
  {
    field: 'stop_loss',
    holds: (s) => s.action !== 'update_protection' || s.stop_loss !== undefined || s.take_profit !== undefined,
    message: 'an update_protection needs stop_loss, take_profit or both',
  },
  {
    field: 'position_side',
    holds: (s) => s.side === undefined || s.position_side === undefined || closedBy(s.side) === s.position_side,
    message: 'disagrees with side: a sell closes the long position, a buy the short',
  },
  { field: 'price', holds: (s) => s.order_type !== 'limit' || s.price !== undefined, message: 'is required for a limit order' },
  {
    field: 'stop_loss',
    holds: (s) => !s.reduce_only || (s.stop_loss === undefined && s.take_profit === undefined),
    message: 'cannot be set on a reduce-only signal (it closes a position; there is nothing to protect)',
  },
  {
    field: 'stop_loss',
    holds: (s) => {
      if (s.stop_loss === undefined || s.take_profit === undefined) return true;
      // An update_protection for every position on the symbol has no one side to check against.
      const long = s.action === 'update_protection' ? (s.position_side === undefined ? undefined : s.position_side === 'long') : s.side === 'buy';
      if (long === undefined) return true;
      return long ? s.stop_loss < s.take_profit : s.stop_loss > s.take_profit;
    },
    message: 'must be below take_profit for a long position and above it for a short',
  },
];

export const SignalSchema = v.pipe(
  v.object(SignalEntries),
  v.rawCheck<SignalFields>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const signal = dataset.value;
    const reported = new Set<string>();
    for (const rule of SIGNAL_RULES) {
      if (reported.has(rule.field) || rule.holds(signal)) continue;
      reported.add(rule.field);
      addIssue({
        message: rule.message,
        path: [{ type: 'object', origin: 'value', input: signal as unknown as Record<string, unknown>, key: rule.field, value: signal[rule.field] }],
      });
    }
  }),
  v.transform((s) => ({ ...s, reduce_only: s.reduce_only ?? false })),
);

export type Signal = v.InferOutput<typeof SignalSchema>;

export const ExecuteAccountSchema = v.object({
  ...AccountCredentialsEntries,
  quantity: optionalPositiveDecimal('a quantity'),
  client_order_id: v.optional(ClientOrderIdSchema),
  /** Opens and reverses: size this account on the node (docs/protocol.md, "Sizing"); absent: `quantity`, or the signal's. */
  sizing: v.optional(SizingSpecSchema),
  /** Opens and reverses: this account's leverage and margin mode, overriding the signal's. */
  leverage: SignalEntries.leverage,
  margin_mode: SignalEntries.margin_mode,
});

/** One account's share of a signal, with its credentials sealed. */
export interface AccountOrder {
  account_id: AccountId;
  exchange: string;
  credentials: Credentials;
  sandbox: boolean;
  /**
   * The account's own quantity, or the signal's: the new position's size for
   * an open or a reverse, how much to close for a reduce by quantity;
   * `undefined` for actions sized from the account's live position.
   */
  quantity: number | undefined;
  client_order_id: string;
  /** Sized on the node (an open's or a reverse's new side); `quantity` is then the multiplier mode's base, or unset. */
  sizing?: SizingSpec | undefined;
  /** Overrides the signal's leverage and margin mode for this account. */
  leverage?: number | undefined;
  margin_mode?: 'cross' | 'isolated' | undefined;
}

export interface ExecuteBatch {
  request_id: string | undefined;
  attempt: number;
  /** True when this request may repeat an earlier one: look every order up before placing it. */
  retry: boolean;
  /**
   * Place nothing that opens or closes: find the signal's orders (entry,
   * closes) by their ids and only make its protection follow what they
   * filled. The center's protection pass sends it; implies `retry`.
   */
  protectOnly: boolean;
  signal: Signal;
  accounts: AccountOrder[];
}

export const ExecuteRequestSchema = v.pipe(
  v.object({
    request_id: v.optional(v.pipe(v.string(), v.maxLength(128))),
    attempt: v.optional(v.pipe(v.number('expected an integer >= 1'), v.integer('expected an integer >= 1'), v.minValue(1)), 1),
    retry: v.optional(v.boolean('expected true or false'), false),
    protect_only: v.optional(v.boolean('expected true or false'), false),
    signal: SignalSchema,
    accounts: v.pipe(
      v.array(ExecuteAccountSchema, 'expected an array of accounts'),
      v.minLength(1, 'expected at least one account'),
      v.check(uniqueAccounts, 'lists the same account_id twice'),
    ),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const { signal, accounts } = dataset.value;
    const opening = signal.action === 'open' || signal.action === 'reverse';
    accounts.forEach((account, index) => {
      const refuse = (key: 'quantity' | 'sizing' | 'leverage' | 'margin_mode', message: string) =>
        addIssue({
          message,
          path: [
            { type: 'object', origin: 'value', input: dataset.value as unknown as Record<string, unknown>, key: 'accounts', value: accounts },
            { type: 'array', origin: 'value', input: accounts, key: index, value: account },
            { type: 'object', origin: 'value', input: account as unknown as Record<string, unknown>, key, value: account[key] },
          ],
        });
      if (!opening) {
        if (account.quantity !== undefined && !(signal.action === 'reduce' && signal.close_fraction === undefined)) {
          refuse('quantity', `is not used by a ${signal.action} signal: it is sized from each account's position`);
        }
        for (const key of ['sizing', 'leverage', 'margin_mode'] as const) {
          if (account[key] !== undefined) refuse(key, `is not used by a ${signal.action} signal: only an open or a reverse's new side is sized and levered`);
        }
        return;
      }
      if (account.sizing && account.sizing.mode !== 'multiplier' && account.quantity !== undefined) {
        refuse('quantity', `is not used with sizing mode ${account.sizing.mode}: the node sizes the account`);
      }
    });
  }),
  v.transform((req): ExecuteBatch => {
    const signal = req.signal;
    return {
      request_id: req.request_id,
      attempt: req.attempt,
      retry: req.retry || req.attempt > 1 || req.protect_only,
      protectOnly: req.protect_only,
      signal,
      accounts: req.accounts.map((a) => ({
        account_id: a.account_id,
        exchange: a.exchange,
        credentials: toCredentials(a),
        sandbox: a.sandbox ?? false,
        // A node-sized account has no quantity until the node sizes it; a multiplier one is sized from this.
        quantity: a.sizing && a.sizing.mode !== 'multiplier' ? undefined : (a.quantity ?? signal.quantity),
        ...(a.sizing ? { sizing: a.sizing } : {}),
        ...(a.leverage !== undefined ? { leverage: a.leverage } : {}),
        ...(a.margin_mode !== undefined ? { margin_mode: a.margin_mode } : {}),
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
    ...(batch.protectOnly ? { protect_only: true } : {}),
    signal: batch.signal,
    accounts: batch.accounts.map((a) => ({
      ...accountToWire(a),
      // A node-sized account has no quantity of its own. A node older than sizing would place the signal's: upgrade nodes first (docs/protocol.md, "Sizing").
      quantity: a.sizing && a.sizing.mode !== 'multiplier' ? undefined : a.quantity,
      client_order_id: a.client_order_id,
      ...(a.sizing ? { sizing: sizingSpecToWire(a.sizing) } : {}),
      ...(a.leverage !== undefined ? { leverage: a.leverage } : {}),
      ...(a.margin_mode !== undefined ? { margin_mode: a.margin_mode } : {}),
    })),
  };
}

/**
 * Final state of one account's entry order, as the center records it (for a
 * close or a reduce, of its closing orders). `done`: an action that places
 * no order of its own (update_protection, cancel, a close with no position)
 * did what it was asked.
 */
export const RESULT_STATUSES = ['filled', 'partially_filled', 'open', 'done', 'rejected', 'failed', 'unknown'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

export const ErrorBodySchema = v.object({ code: v.string(), message: v.string() });

const PositionSideSchema = v.picklist(['long', 'short']);
const FeeSchema = v.nullable(v.object({ cost: v.number(), currency: v.nullable(v.string()) }));

/** One reduce-only order of a close, a reduce or a reverse, closing (part of) one position side. */
export const ClosedLegSchema = v.object({
  position_side: PositionSideSchema,
  client_order_id: v.string(),
  order_id: v.nullable(v.string()),
  status: v.picklist(RESULT_STATUSES),
  filled_quantity: v.number(),
  filled_price: v.nullable(v.number()),
  fee: v.optional(FeeSchema),
  /** That side's size before this order, and what is left after it (base currency). */
  position_before: v.number(),
  position_after: v.nullable(v.number()),
  deduplicated: v.optional(v.boolean()),
  error: v.optional(ErrorBodySchema),
});

/** A protective order an action placed (new, or resized from the ones it replaces). */
export const ProtectionChangeSchema = v.object({
  position_side: PositionSideSchema,
  leg: v.picklist(['stop_loss', 'take_profit']),
  client_order_id: v.string(),
  order_id: v.nullable(v.string()),
  amount: v.number(),
  trigger_price: v.number(),
  /** Exchange ids of the orders it replaced (cancelled after it was placed). */
  replaces: v.array(v.string()),
  error: v.optional(ErrorBodySchema),
});

/** A resting order an action cancelled (or found already gone). */
export const CanceledOrderSchema = v.object({
  order_id: v.string(),
  client_order_id: v.nullable(v.string()),
  kind: v.picklist(['entry', 'close', 'stop_loss', 'take_profit']),
  position_side: v.nullable(PositionSideSchema),
  /** The exchange no longer had it open (filled, triggered or cancelled before). */
  gone: v.optional(v.boolean()),
  error: v.optional(ErrorBodySchema),
});

/** A tradectl stop-loss or take-profit resting on the symbol when a protect-only request ended. */
export const RestingProtectionSchema = v.object({
  position_side: PositionSideSchema,
  leg: v.picklist(['stop_loss', 'take_profit']),
  client_order_id: v.string(),
  order_id: v.string(),
  amount: v.number(),
  trigger_price: v.number(),
});

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
  /** The position mode the account's orders were sent in, where it trades positions (so a one-way account's opposite open nets). */
  position_mode: v.optional(v.picklist(['one_way', 'hedge'])),
  /** A sized account's entry: the quantity chosen and why (optional: only sized accounts, and only from nodes that size). */
  sizing: v.optional(SizingReportSchema),
  /** Actions other than open (optional: nodes of the original deployment send none). */
  closed: v.optional(v.array(ClosedLegSchema)),
  protection: v.optional(v.array(ProtectionChangeSchema)),
  canceled: v.optional(v.array(CanceledOrderSchema)),
  /** Protect-only answers: every tradectl stop-loss and take-profit resting on the symbol afterwards (read from the exchange at the end). */
  resting_protection: v.optional(v.array(RestingProtectionSchema)),
});

export type AccountResult = v.InferOutput<typeof AccountResultSchema>;

export const ExecuteResponseSchema = v.object({
  success: v.literal(true),
  node_code: v.nullable(v.string()),
  request_id: v.optional(v.string()),
  results: v.array(AccountResultSchema),
});

export type ExecuteResponse = v.InferOutput<typeof ExecuteResponseSchema>;
