/**
 * What every exchange simulator in this folder offers, so one acceptance
 * suite can run the same scenarios against each of them (the way the
 * center's tests run on both databases).
 *
 * Each simulator speaks its exchange's real REST API on 127.0.0.1 (paths,
 * signatures, envelopes, error codes, units and rules, written from the
 * exchange's documentation and ccxt's recordings) and is driven by ccxt's
 * real, unmodified code with its `urls.api` pointed at `url`. This file is
 * only the exchange-neutral control surface and the normalised view of the
 * book that tests assert on: quantities here are always in the BASE
 * currency (contracts × contract size), whatever unit the exchange uses on
 * the wire, so a test can say "0.01 BTC is on the book" for every exchange.
 */

/** Unified symbols every simulator lists (swap simulators) or their spot pairs (spot simulators). */
export type SimSymbol = string;

export type PositionMode = 'one_way' | 'hedge';

export interface SimAccountSpec {
  apiKey: string;
  secret: string;
  /** OKX and Bitget sign with a passphrase too; simulators that need one refuse requests without the right one. */
  passphrase?: string;
  /** Quote (USDT) balance; default 10,000. */
  usdt?: number;
  /** Spot simulators: base-currency balances, e.g. { BTC: 1 }. */
  assets?: Record<string, number>;
  /** Default 'one_way'. */
  positionMode?: PositionMode;
}

/** Which exchange call a fault applies to, in words every simulator maps to its own paths. */
export type SimOperation =
  | 'place_order' // a regular entry / reduce-only order
  | 'place_trigger' // a stop-loss / take-profit (trigger, algo, plan or conditional) order
  | 'query_order' // any single-order lookup
  | 'cancel_order'
  | 'balance'
  | 'positions'
  | 'leverage'
  | 'markets';

export type SimFaultKind =
  | 'http_500' // answer 500 before doing anything (nothing placed)
  | 'http_503_after' // process the request (an order IS placed), then answer 503: outcome unknown to the client
  | 'rate_limit' // the exchange's own rate-limit answer, nothing placed
  | 'timeout' // never answer; nothing placed (the socket is held until the client gives up or close())
  | 'timeout_after' // process the request (order placed), then never answer
  | 'reject'; // answer the exchange's error `code` / `msg`, nothing placed

export interface SimFault {
  kind: SimFaultKind;
  /** Exchange-neutral target; or `method` / `path` for an exact route. Default: any request. */
  operation?: SimOperation;
  method?: string;
  path?: string;
  /** Only requests signed with this key; default any. */
  apiKey?: string;
  /** How many matching requests it affects; default 1; Infinity allowed. */
  times?: number;
  /** For 'reject': the exchange's own code and message, HTTP status (default the exchange's usual). */
  code?: number | string;
  msg?: string;
  status?: number;
}

/** One order on the simulated book, normalised. */
export interface SimOrderView {
  /** The apiKey of the account. */
  account: string;
  /** Unified ccxt symbol, e.g. 'BTC/USDT:USDT'. */
  symbol: SimSymbol;
  /** The exchange's own order id (regular, algo, plan or conditional). */
  id: string;
  /** The client id the order was placed with (clientOrderId / clOrdId / algoClOrdId / orderLinkId / clientOid). */
  clientOrderId: string;
  side: 'buy' | 'sell';
  /** 'market' | 'limit' for regular orders; 'stop_loss' | 'take_profit' for protective ones (trigger, algo, plan, attached or OCO leg). */
  type: 'market' | 'limit' | 'stop_loss' | 'take_profit';
  status: 'open' | 'filled' | 'partially_filled' | 'canceled' | 'triggered' | 'rejected';
  /** Base-currency quantity ordered (contracts × contract size); null for a whole-position stop. */
  amount: number | null;
  /** Base-currency quantity filled. */
  filled: number;
  /** Average fill price, null when nothing filled. */
  average: number | null;
  price: number | null;
  triggerPrice: number | null;
  reduceOnly: boolean;
  /** Hedge-mode side the order acts on; null in one-way mode. */
  positionSide: 'long' | 'short' | null;
  /** For orders that are legs of another (attached SL/TP, OCO): the parent's id. */
  parentId: string | null;
  createdAt: number;
}

export interface SimPositionView {
  account: string;
  symbol: SimSymbol;
  /** 'long' | 'short'; in one-way mode from the sign of the position. */
  side: 'long' | 'short';
  /** Base-currency size, > 0. */
  amount: number;
  entryPrice: number;
  leverage: number;
  marginMode: 'cross' | 'isolated';
}

export interface ExchangeSim {
  /** The ccxt exchange id this simulator speaks for, e.g. 'okx'. */
  readonly exchange: string;
  /** 'http://127.0.0.1:PORT' */
  readonly url: string;
  readonly port: number;
  /** Unified symbols listed, in the order the simulator lists them. */
  readonly symbols: readonly SimSymbol[];
  addAccount(account: SimAccountSpec): void;
  /** Added to every exchange answer (not to /__sim/ control calls); timers, never blocking. */
  setLatency(ms: number): void;
  /** Crossed resting limits fill and crossed trigger orders fire. */
  setMarkPrice(symbol: SimSymbol, price: number): void;
  markPrice(symbol: SimSymbol): number;
  /** Queue a fault; faults are matched in order. */
  fault(fault: SimFault): void;
  clearFaults(): void;
  /** Every order ever accepted (filled, open, canceled), oldest first. */
  orders(apiKey?: string): SimOrderView[];
  /** Open positions (spot simulators: none). */
  positions(apiKey?: string): SimPositionView[];
  /** Leverage the account has set on a symbol (the exchange's default when never set). */
  leverage(apiKey: string, symbol: SimSymbol): number;
  /** Requests received: by operation, by method + path, or all. */
  requestCount(filter?: { operation?: SimOperation; method?: string; path?: string; apiKey?: string }): number;
  resetCounts(): void;
  /** Drops accounts, orders, faults and counts, and restores the default mark prices. */
  reset(): void;
  /** Closes the server and destroys every socket, held ones included. */
  close(): Promise<void>;
}

export interface ExchangeSimOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  latencyMs?: number;
  accounts?: SimAccountSpec[];
}
