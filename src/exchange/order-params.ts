import type { MarketInterface as Market } from 'ccxt';
import { ExchangeFailure } from './exchange-failure.js';
import type { MarginMode, OrderRequest } from './trader.js';

/**
 * The ccxt params of one order: the unified ones, and where an exchange
 * needs them said differently, that exchange's. Every per-exchange rule
 * about how an order is asked for lives here.
 */
export function orderParams(exchangeId: string, market: Market, request: OrderRequest, account: { hedged: boolean; marginMode: MarginMode | undefined } = { hedged: false, marginMode: undefined }): Record<string, unknown> {
  const { hedged, marginMode } = account;
  const params: Record<string, unknown> = { clientOrderId: request.clientOrderId };
  // OKX (tdMode) and Bitget take the margin mode on every order; ccxt's default for both is cross.
  if (marginMode && market.contract && (exchangeId === 'okx' || exchangeId === 'bitget')) params['marginMode'] = marginMode;
  // ccxt's unified flag: it sends the position side (Binance positionSide, OKX posSide, Bybit positionIdx,
  // Bitget tradeSide / holdSide) for the side an order opens, or for a reduce-only order the side it closes.
  if (hedged && market.contract) params['hedged'] = true;
  if (market.spot && request.trigger) {
    // Spot holds coins, not a position: a stop and a take-profit of the amount held must be one OCO order
    // (each sell locks what it offers, and the holding is net of the commission); until then, refused here.
    throw new ExchangeFailure('invalid_order', `not placed: a ${request.trigger.kind.replace('_', '-')} on a spot market needs an OCO order for the amount held, which this node does not place yet`);
  }
  // Spot takes no reduce-only flag (Binance answers -1104 for the unread parameter).
  if (request.reduceOnly && !market.spot) params['reduceOnly'] = true;
  if (request.trigger) {
    params[request.trigger.kind === 'stop_loss' ? 'stopLossPrice' : 'takeProfitPrice'] = request.trigger.price;
    // ccxt asks Bitget for whole-position stops (pos_loss / pos_profit), which close everything held on the
    // symbol; loss_plan / profit_plan close the size given, this entry's.
    if (exchangeId === 'bitget') params['planType'] = request.trigger.kind === 'stop_loss' ? 'loss_plan' : 'profit_plan';
  }
  return params;
}

/**
 * The exchange refused an order because the account's position mode
 * (one-way or hedge) is not the one the order was written for: Binance
 * -4061, OKX 51000 naming posSide, Bybit 10001 "position idx not match
 * position mode", Bitget 40774. Nothing was placed, so the order can be
 * sent again in the other mode.
 */
const POSITION_MODE_REFUSED = /"code"\s*:\s*-4061\b|position side does not match|"sCode"\s*:\s*"51000"[^}]*posSide|Parameter posSide error|position idx not match position mode|"code"\s*:\s*"40774"|unilateral position/i;

export function positionModeRefused(error: unknown): boolean {
  return POSITION_MODE_REFUSED.test(error instanceof Error ? error.message : String(error));
}
