import type { Balance, Position } from '../core/wire-sync.js';
import type { MarketSizing } from './order-units.js';

/**
 * What the execution path needs from an exchange, and nothing more. The ccxt
 * adapter and the paper exchange both implement it; `node/execute.ts` only
 * ever sees this interface.
 */
export interface Trader {
  readonly exchange: string;
  placeOrder(request: OrderRequest): Promise<OrderSnapshot>;
  /** The order with this client id, or `null` when the exchange has none. */
  findOrder(symbol: string, clientOrderId: string, trigger: boolean): Promise<OrderSnapshot | null>;
  setLeverage(symbol: string, leverage: number): Promise<void>;
  /** Cross or isolated margin for the symbol's next orders; a mode already set is not an error. */
  setMarginMode(symbol: string, mode: MarginMode): Promise<void>;
  fetchBalances(): Promise<Balance[]>;
  /** The symbol's rounding and minimums, for sizing an order (throws `market_not_found` for an unknown symbol). */
  marketSizing(symbol: string): Promise<MarketSizing>;
  /** The symbol's last traded price, read now (one ticker call); `undefined` when the exchange gives none. */
  lastPrice(symbol: string): Promise<number | undefined>;
  fetchPositions(symbols: string[] | undefined): Promise<Position[]>;
  /**
   * Every order resting on the symbol for this account: unfilled (or partly
   * filled) regular orders and untriggered trigger orders (stop-loss,
   * take-profit), whoever placed them. Amounts in the base currency.
   */
  openOrders(symbol: string): Promise<RestingOrder[]>;
  /**
   * Cancels one order `openOrders` returned. `false` when the exchange no
   * longer has it open (filled, triggered or cancelled meanwhile): what was
   * asked for holds, so that is not an error.
   */
  cancelOrder(order: RestingOrder): Promise<boolean>;
  /**
   * The position mode the account's orders were last sent in (learnt from the
   * exchange's refusals); `null` where positions are not traded (spot).
   */
  positionMode(symbol: string): 'one_way' | 'hedge' | null;
}

/** An order resting on the exchange, as `Trader.openOrders` reports it. */
export interface RestingOrder {
  id: string;
  clientOrderId: string | null;
  symbol: string;
  side: 'buy' | 'sell';
  /** Base currency; for a trigger order, what it closes when it fires. */
  amount: number;
  filled: number;
  /** Limit price of a regular order. */
  price: number | null;
  /** Set for a trigger order: which kind (as the exchange reports it, else `null`) and at what price. */
  trigger: { kind: 'stop_loss' | 'take_profit' | null; price: number } | null;
  reduceOnly: boolean;
  /** Hedge-mode accounts: the position side it belongs to; `null` in one-way mode. */
  positionSide: 'long' | 'short' | null;
}

export type MarginMode = 'cross' | 'isolated';

export interface OrderRequest {
  symbol: string;
  side: 'buy' | 'sell';
  type: 'market' | 'limit';
  amount: number;
  /** Limit price; for a market order only a reference (the paper exchange fills at it). */
  price: number | undefined;
  clientOrderId: string;
  reduceOnly: boolean;
  /** Present for a stop-loss / take-profit trigger order. */
  trigger?: { kind: 'stop_loss' | 'take_profit'; price: number };
}

export type ExchangeOrderState = 'open' | 'closed' | 'canceled' | 'expired' | 'rejected' | 'unknown';

/** The exchange's view of one order, in plain numbers. */
export interface OrderSnapshot {
  id: string;
  clientOrderId: string | null;
  status: ExchangeOrderState;
  amount: number | null;
  filled: number;
  average: number | null;
  fee: { cost: number; currency: string | null } | null;
}
