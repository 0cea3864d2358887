import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * The center's tables, with the original deployment's names (docs/design.md R3, R4). Times are Unix milliseconds in
 * BIGINT columns and money is BIGINT in 1e-8 units, so both dialects compare
 * and add them exactly the same way and balance updates can be single
 * atomic `SET x = x + ?` statements.
 *
 * Money columns are named `*_units` and read as `bigint` on both drivers
 * (`connect.ts`); every other integer is a `number`, below 2^53.
 */
export interface Database {
  dim_execution_node: ExecutionNodeTable;
  dim_user: UserTable;
  fact_exchange_account: ExchangeAccountTable;
  dim_strategy: StrategyTable;
  dim_strategy_binding: StrategyBindingTable;
  fact_signal: SignalTable;
  fact_order: OrderTable;
  fact_fill: FillTable;
  fact_order_leg: OrderLegTable;
  fact_leg_fill: LegFillTable;
  fact_follower_position: FollowerPositionTable;
  fact_protective_order: ProtectiveOrderTable;
  fact_realised_pnl: RealisedPnlTable;
  fact_account: AccountBalanceTable;
  fact_position: PositionTable;
  fact_ledger: LedgerTable;
  dim_profit_pool: ProfitPoolTable;
}

export interface ExecutionNodeTable {
  id: Generated<number>;
  node_code: string;
  name: string | null;
  base_url: string;
  /** 1 = may receive work, 0 = disabled by an operator. */
  status: number;
  last_heartbeat_at: number | null;
  created_at: number;
  updated_at: number;
  /** `config` when seeded from `execution_nodes`, `api` when registered. */
  source: string;
  version: string | null;
  heartbeat_status: string | null;
  uptime_seconds: number | null;
  in_flight: number | null;
  capacity: number | null;
  reported_url: string | null;
  /** Comma-separated `features` of its last heartbeat (migration 0011); null from a node of an earlier version. */
  features: string | null;
}

export interface UserTable {
  id: Generated<number>;
  username: string;
  inviter_id: number | null;
  /** Point-card balance, 1e-8 units. May go below zero when a fill is charged. */
  points_units: bigint;
  /** Referral rewards earned, 1e-8 units. */
  rewards_units: bigint;
  created_at: number;
}

export interface ExchangeAccountTable {
  id: Generated<number>;
  user_id: number;
  exchange: string;
  label: string | null;
  /** AES-256-GCM sealed (see `crypto/secret-box.ts`); never returned by the API. */
  api_key_enc: string;
  api_secret_enc: string;
  passphrase_enc: string | null;
  /** First and last characters of the key, for operators. */
  api_key_hint: string;
  sandbox: number;
  /** null = execute in the center itself (docs/design.md R3.2). */
  execution_node_id: number | null;
  enabled: number;
  created_at: number;
  updated_at: number;
  /** When the account's positions were last read from the exchange (migration 0010). */
  positions_synced_at: number | null;
  /** 'one_way' | 'hedge', as the account's node last reported it (migration 0010). */
  position_mode: string | null;
}

/** The sizing columns a strategy (the defaults) and each of its bindings share (migration 0012). */
export interface SizingColumns {
  /** How a follower's open is sized (migration 0012): multiplier, fixed_notional, equity_percent, risk_percent; null = multiplier (or, on a binding, the strategy's). */
  sizing: string | null;
  /** USDT per signal (fixed_notional) or a percentage (equity_percent, risk_percent); decimal text, with `sizing`. */
  sizing_value: string | null;
  /** Below the market's minimum: skip or round_up; null = skip (or the strategy's). */
  min_size: string | null;
  /** USDT cap on an open's notional; decimal text; null = none (or the strategy's). */
  max_position_notional: string | null;
  /** Overrides the signal's leverage and margin mode; null = the signal's (or the strategy's). */
  leverage: number | null;
  margin_mode: string | null;
}

export interface StrategyTable extends SizingColumns {
  id: Generated<number>;
  strategy_code: string;
  name: string | null;
  enabled: number;
  created_at: number;
}

export interface StrategyBindingTable extends SizingColumns {
  id: Generated<number>;
  strategy_id: number;
  account_id: number;
  /** Signal quantity × multiplier = the account's quantity. Decimal text. */
  multiplier: string;
  enabled: number;
  created_at: number;
}

export interface SignalTable {
  id: Generated<number>;
  signal_id: string;
  strategy_id: number;
  symbol: string;
  side: string;
  quantity: string;
  order_type: string;
  price: string | null;
  stop_loss: string | null;
  take_profit: string | null;
  leverage: number | null;
  /** 1 = the signal only reduces or closes a position (migration 0003). */
  reduce_only: number;
  /** 'cross' | 'isolated', or null for the account's own (migration 0007). */
  margin_mode: string | null;
  /** What the signal does (migration 0008): open, close, reduce, reverse, update_protection, cancel. */
  action: Generated<string>;
  position_side: string | null;
  /** Decimal text. */
  close_fraction: string | null;
  /** cancel: entries, protection or all. */
  cancel: string | null;
  request_id: string;
  status: string;
  accepted_at: number;
  dispatched_at: number | null;
  completed_at: number | null;
}

export interface OrderTable {
  id: Generated<number>;
  signal_row_id: number;
  account_id: number;
  user_id: number;
  /** The node it was sent to; null = executed in the center. */
  execution_node_id: number | null;
  client_order_id: string;
  symbol: string;
  side: string;
  quantity: string;
  status: string;
  exchange_order_id: string | null;
  filled_quantity: string;
  filled_price: string | null;
  fee_cost: string | null;
  fee_currency: string | null;
  stop_loss_order_id: string | null;
  take_profit_order_id: string | null;
  /** How much of the entry its own protection covers, as last reported (the smaller leg's amount; migration 0011). */
  protected_quantity: string | null;
  stop_loss_error: string | null;
  take_profit_error: string | null;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  created_at: number;
  dispatched_at: number | null;
  node_received_ms: number | null;
  completed_at: number | null;
  updated_at: number;
  /** The first answer's stage timings (migration 0002): the node's durations, then the center's clock. */
  node_queued_ms: number | null;
  node_exchange_ms: number | null;
  /** From the center sending the request to reading the answer (or the in-process call). */
  round_trip_ms: number | null;
  answered_at: number | null;
  applied_at: number | null;
  /** When the reconciler last looked at it (migration 0006); it looks at the least recently seen first. */
  reconciled_at: number | null;
  /** The sizing spec it is sent with, as wire JSON (migration 0012); null = sized by the center (`quantity`). */
  sizing: string | null;
  /** What the node chose and why (the result's `sizing`), as JSON. */
  sizing_report: string | null;
  /** The binding's leverage and margin mode, sent with the order over the signal's; null = the signal's. */
  leverage: number | null;
  margin_mode: string | null;
}

export interface FillTable {
  id: Generated<number>;
  order_id: number;
  /** Cumulative filled quantity after this fill, decimal text; unique per order. */
  cumulative_quantity: string;
  quantity: string;
  price: string;
  notional_units: bigint;
  created_at: number;
}

/** An order an action placed besides its entry (migration 0009): a close or a reduce's closing order, a reverse's close. */
export interface OrderLegTable {
  id: Generated<number>;
  order_id: number;
  account_id: number;
  client_order_id: string;
  /** 'close' */
  role: string;
  /** 'long' | 'short': the position side it closes. */
  position_side: string;
  exchange_order_id: string | null;
  status: string;
  /** Decimal text, base currency. */
  filled_quantity: string;
  filled_price: string | null;
  fee_cost: string | null;
  fee_currency: string | null;
  position_before: string | null;
  position_after: string | null;
  error_code: string | null;
  error_message: string | null;
  created_at: number;
  updated_at: number;
}

/** A leg's newly filled quantity, once per (leg, cumulative quantity), as `fact_fill` is per order. */
export interface LegFillTable {
  id: Generated<number>;
  leg_id: number;
  order_id: number;
  cumulative_quantity: string;
  quantity: string;
  price: string;
  notional_units: bigint;
  created_at: number;
}

/** A follower's position as tradectl's fills make it (migration 0010); drift is measured against the exchange's (`fact_position`). */
export interface FollowerPositionTable {
  id: Generated<number>;
  account_id: number;
  symbol: string;
  /** 'long' | 'short' */
  side: string;
  /** Decimal text, base currency; '0' once closed. */
  quantity: string;
  /** Average entry price of what is held; null when flat. */
  entry_price: string | null;
  /** Decimal text, quote currency: fees paid opening what is held, charged to its closes in proportion (migration 0011). */
  entry_fees: Generated<string>;
  /** Decimal text, quote currency: what its closes realised, net of their fees and the entry fees of what they closed. */
  realised_pnl: string;
  updated_at: number;
}

/** A stop-loss or take-profit protecting a follower's position (migration 0011), as its node last reported it. */
export interface ProtectiveOrderTable {
  id: Generated<number>;
  account_id: number;
  /** The order whose request placed it (an open, or the action that resized or moved it). */
  order_id: number;
  symbol: string;
  /** The position side it protects: 'long' | 'short'. */
  side: string;
  /** 'stop_loss' | 'take_profit' */
  leg: string;
  client_order_id: string;
  exchange_order_id: string;
  /** Decimal text, base currency: what it closes when it fires. */
  amount: string;
  trigger_price: string;
  /** 'live' (resting when last reported), 'canceled' (by an action, or replaced), 'gone' (no longer open when an action came to cancel it). */
  state: string;
  created_at: number;
  updated_at: number;
}

/** What one closing fill realised (migration 0010), once per fill. */
export interface RealisedPnlTable {
  id: Generated<number>;
  account_id: number;
  user_id: number;
  order_id: number;
  /** The fill's key: its cumulative quantity, or `leg<id>:` and it for a leg's. */
  fill_key: string;
  symbol: string;
  side: string;
  quantity: string;
  entry_price: string;
  exit_price: string;
  gross_pnl: string;
  /** The closing fill's fee plus `entry_fee`. */
  fee: string;
  /** The share of the position's entry fees this close carries (migration 0011). */
  entry_fee: Generated<string>;
  net_pnl: string;
  created_at: number;
}

export interface AccountBalanceTable {
  id: Generated<number>;
  account_id: number;
  currency: string;
  total: number;
  free: number | null;
  used: number | null;
  synced_at: number;
}

export interface PositionTable {
  id: Generated<number>;
  account_id: number;
  symbol: string;
  side: string;
  contracts: number;
  entry_price: number | null;
  mark_price: number | null;
  notional: number | null;
  unrealized_pnl: number | null;
  leverage: number | null;
  liquidation_price: number | null;
  margin_mode: string | null;
  synced_at: number;
  /** Base currency: contracts × contract size (migration 0010; null on rows synced before it). */
  size: number | null;
}

export interface LedgerTable {
  id: Generated<number>;
  /** Unique per money movement: replaying a settlement inserts nothing. */
  entry_key: string;
  kind: string;
  user_id: number | null;
  order_id: number | null;
  amount_units: bigint;
  created_at: number;
}

export interface ProfitPoolTable {
  id: number;
  balance_units: bigint;
  updated_at: number;
}

export type NodeRow = Selectable<ExecutionNodeTable>;
export type UserRow = Selectable<UserTable>;
export type AccountRow = Selectable<ExchangeAccountTable>;
export type StrategyRow = Selectable<StrategyTable>;
export type BindingRow = Selectable<StrategyBindingTable>;
export type SignalRow = Selectable<SignalTable>;
export type OrderRow = Selectable<OrderTable>;
export type OrderLegRow = Selectable<OrderLegTable>;
export type ProtectiveOrderRow = Selectable<ProtectiveOrderTable>;
export type NewOrder = Insertable<OrderTable>;
export type OrderUpdate = Updateable<OrderTable>;
