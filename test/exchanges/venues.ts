import { randomBytes } from 'node:crypto';
import type { ExchangeSim, PositionMode, SimOperation, SimOrderView } from '../sim/exchange-sim.js';
import { startBinanceSim, type SimOrder } from '../sim/binance-sim.js';
import { startBinanceSpotSim } from '../sim/binance-spot-sim.js';
import { startBitgetSim } from '../sim/bitget-sim.js';
import { startBybitSim } from '../sim/bybit-sim.js';
import { startOkxSim } from '../sim/okx-sim.js';

/** What the acceptance suite needs of a simulator: accounts, its book in base currency, a URL. */
export type VenueSim = Pick<ExchangeSim, 'url' | 'addAccount' | 'orders' | 'positions' | 'fault' | 'clearFaults' | 'setMarkPrice' | 'close'>;

/** The Binance USD-M simulator's routes for the exchange-neutral operations the suite faults. */
const BINANCE_USDM_ROUTES: Partial<Record<SimOperation, { method: string; path: string }>> = {
  place_order: { method: 'POST', path: '/fapi/v1/order' },
  place_trigger: { method: 'POST', path: '/fapi/v1/algoOrder' },
};

export interface Venue {
  /** The ccxt id the node is asked for. */
  exchange: string;
  start(): Promise<VenueSim>;
  /** OKX and Bitget sign with a passphrase. */
  passphrase: boolean;
  spot: boolean;
  symbol: string;
  /** Trigger prices around the default mark of 60,000 for a long. */
  stopLoss: number;
  takeProfit: number;
  /** A quantity the market takes, and one below its minimum. */
  quantity: number;
  belowMinimum: number;
}

function binanceView(order: SimOrder): SimOrderView {
  const trigger = order.kind === 'algo';
  const status = ({ NEW: 'open', PARTIALLY_FILLED: 'partially_filled', FILLED: 'filled', CANCELED: 'canceled', EXPIRED: 'canceled', TRIGGERED: 'triggered', FINISHED: 'triggered' } as Record<string, SimOrderView['status']>)[order.status] ?? 'open';
  return {
    account: order.account,
    symbol: order.symbol,
    id: String(order.algoId ?? order.orderId),
    clientOrderId: order.clientOrderId,
    side: order.side === 'BUY' ? 'buy' : 'sell',
    type: trigger ? (/TAKE_PROFIT/.test(order.type) ? 'take_profit' : 'stop_loss') : order.type === 'LIMIT' ? 'limit' : 'market',
    status,
    amount: Number(order.origQty),
    filled: Number(order.executedQty),
    average: Number(order.avgPrice) || null,
    price: Number(order.price) || null,
    triggerPrice: order.triggerPrice === undefined ? null : Number(order.triggerPrice),
    reduceOnly: order.reduceOnly,
    positionSide: order.positionSide === 'LONG' ? 'long' : order.positionSide === 'SHORT' ? 'short' : null,
    parentId: null,
    createdAt: order.time,
  };
}

/** 'BTC/USDT:USDT' → 'BTCUSDT', the id the Binance USD-M simulator's controls take. */
const marketId = (symbol: string) => (symbol.split(':')[0] ?? symbol).replace('/', '');

/** The Binance USD-M simulator predates the exchange-neutral surface; this is its view through it. */
async function startBinanceUsdm(): Promise<VenueSim> {
  const sim = await startBinanceSim();
  return {
    url: sim.url,
    addAccount: (spec) =>
      sim.addAccount({ apiKey: spec.apiKey, secret: spec.secret, ...(spec.usdt === undefined ? {} : { usdt: spec.usdt }), ...(spec.positionMode ? { positionMode: spec.positionMode } : {}) }),
    orders: (apiKey) => sim.orders(apiKey).map(binanceView),
    positions: (apiKey) =>
      (apiKey === undefined ? [] : sim.positions(apiKey)).map((p) => ({
        account: apiKey ?? '',
        symbol: `${p.symbol.replace(/USDT$/, '')}/USDT:USDT`,
        side: p.side === 'SHORT' || (p.side === 'BOTH' && p.amount < 0) ? ('short' as const) : ('long' as const),
        amount: Math.abs(p.amount),
        entryPrice: p.entry,
        leverage: 0,
        marginMode: 'cross' as const,
      })),
    fault: (f) => {
      const route = f.operation ? BINANCE_USDM_ROUTES[f.operation] : undefined;
      if (f.operation && !route) throw new Error(`the Binance USD-M adapter has no route for ${f.operation}`);
      sim.fault({ kind: f.kind, ...route, ...(f.apiKey ? { apiKey: f.apiKey } : {}), ...(f.times === undefined ? {} : { times: f.times }), ...(typeof f.code === 'number' ? { code: f.code } : {}), ...(f.msg ? { msg: f.msg } : {}) });
    },
    clearFaults: () => sim.clearFaults(),
    setMarkPrice: (symbol, price) => sim.setMarkPrice(marketId(symbol), price),
    close: () => sim.close(),
  };
}

const perpetual = { spot: false, symbol: 'BTC/USDT:USDT', stopLoss: 58_000, takeProfit: 63_000, quantity: 0.01 };

/** Every exchange the node ships with by default, each in front of its simulator. */
export const VENUES: readonly Venue[] = [
  { exchange: 'binanceusdm', start: startBinanceUsdm, passphrase: false, ...perpetual, belowMinimum: 0.0001 },
  { exchange: 'okx', start: startOkxSim, passphrase: true, ...perpetual, belowMinimum: 0.00001 },
  { exchange: 'bybit', start: startBybitSim, passphrase: false, ...perpetual, belowMinimum: 0.0001 },
  { exchange: 'bitget', start: startBitgetSim, passphrase: true, ...perpetual, belowMinimum: 0.00001 },
  { exchange: 'binance', start: startBinanceSpotSim, passphrase: false, spot: true, symbol: 'BTC/USDT', stopLoss: 58_000, takeProfit: 63_000, quantity: 0.01, belowMinimum: 0.000001 },
];

export interface VenueAccount {
  account_id: number;
  exchange: string;
  api_key: string;
  api_secret: string;
  passphrase?: string;
}

/** A fresh funded account on `sim`, in the node's wire form. */
export function newAccount(venue: Venue, sim: VenueSim, accountId: number, positionMode: PositionMode = 'one_way'): VenueAccount {
  const apiKey = `k${accountId}${randomBytes(10).toString('hex')}`;
  const secret = randomBytes(16).toString('hex');
  const passphrase = venue.passphrase ? `Pp${randomBytes(6).toString('hex')}` : undefined;
  sim.addAccount({ apiKey, secret, ...(passphrase ? { passphrase } : {}), usdt: 100_000, positionMode });
  return { account_id: accountId, exchange: venue.exchange, api_key: apiKey, api_secret: secret, ...(passphrase ? { passphrase } : {}) };
}
