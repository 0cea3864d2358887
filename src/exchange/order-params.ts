import type { MarketInterface as Market } from 'ccxt';
import { ExchangeFailure } from './exchange-failure.js';
import type { OrderRequest } from './trader.js';

/**
 * The ccxt params of one order: the unified ones, and where an exchange
 * needs them said differently, that exchange's. Every per-exchange rule
 * about how an order is asked for lives here.
 */
export function orderParams(exchangeId: string, market: Market, request: OrderRequest): Record<string, unknown> {
  const params: Record<string, unknown> = { clientOrderId: request.clientOrderId };
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
