import type { Exchange, Order } from 'ccxt';
import { loadedCcxt } from './ccxt-module.js';

/**
 * Finding an order by the client id it was placed with: the question that
 * makes every resend exactly-once. ccxt's `fetchOrder(…, {clientOrderId})`
 * answers it on most exchanges; where it cannot, the exchange's own
 * endpoint is asked here, once per exchange. `null`: the exchange has no
 * such order.
 */
export type ClientIdLookup = (exchange: Exchange, symbol: string, clientOrderId: string, trigger: boolean) => Promise<Order | null>;

/** The ccxt way: `fetchOrder` by the clientOrderId param; OrderNotFound is "none". */
const byCcxt: ClientIdLookup = async (exchange, symbol, clientOrderId, trigger) => {
  const params: Record<string, unknown> = { clientOrderId };
  if (trigger) params['trigger'] = true;
  try {
    // ccxt looks the order up by the clientOrderId param when one is given;
    // the positional id is then unused, so there is none to pass.
    return await exchange.fetchOrder(undefined as unknown as string, symbol, params);
  } catch (error) {
    const notFound = loadedCcxt()?.OrderNotFound;
    if (notFound && error instanceof notFound) return null;
    throw error;
  }
};

/** The `list` of a Bybit v5 answer (`{retCode, result: {list}}`); ccxt has already raised on a non-zero retCode. */
function bybitList(answer: unknown): unknown[] {
  const list = (answer as { result?: { list?: unknown } } | undefined)?.result?.list;
  return Array.isArray(list) ? list : [];
}

/**
 * Bybit: on a unified account ccxt's fetchOrder refuses a lookup without
 * `acknowledged`, and with it sends `clientOrderId`, which Bybit does not
 * read, and answers with any open order of the symbol. Bybit's parameter is
 * `orderLinkId`: `/v5/order/realtime` finds open and recent closed orders of
 * every kind (regular and conditional), `/v5/order/history` older ones.
 */
const bybit: ClientIdLookup = async (exchange, symbol, clientOrderId) => {
  const market = exchange.market(symbol);
  const category = market.linear ? 'linear' : market.inverse ? 'inverse' : market.spot ? 'spot' : 'option';
  const query = { category, symbol: String(market.id), orderLinkId: clientOrderId };
  // ccxt's implicit endpoints are generated per exchange and absent from the base Exchange type.
  const api = exchange as unknown as Record<'privateGetV5OrderRealtime' | 'privateGetV5OrderHistory', (params: Record<string, string>) => Promise<unknown>>;
  for (const endpoint of ['privateGetV5OrderRealtime', 'privateGetV5OrderHistory'] as const) {
    const found = bybitList(await api[endpoint](query)).find((row) => (row as { orderLinkId?: unknown }).orderLinkId === clientOrderId);
    if (found) return exchange.parseOrder(found as Record<string, unknown>, market);
  }
  return null;
};

/** The `entrustedList` of a Bitget v2 page (`{code, data: {entrustedList}}`); null on an empty page. */
function bitgetList(answer: unknown): unknown[] {
  const list = (answer as { data?: { entrustedList?: unknown } } | undefined)?.data?.entrustedList;
  return Array.isArray(list) ? list : [];
}

/**
 * Bitget keeps stop-losses and take-profits in a plan-order book of their
 * own; ccxt's fetchOrder ignores `trigger` and asks the regular-order
 * endpoint, which answers 40109 for them. Trigger orders are asked of the
 * plan book (`profit_loss`: every TP/SL kind), pending then history; regular
 * orders go through ccxt, whose lookup by clientOid works.
 */
const bitget: ClientIdLookup = async (exchange, symbol, clientOrderId, trigger) => {
  if (!trigger) return byCcxt(exchange, symbol, clientOrderId, false);
  const market = exchange.market(symbol);
  // ccxt's own product-type rule (USDT-FUTURES, or its demo-trading name in sandbox mode); not in the base Exchange type.
  const productOf = (exchange as unknown as { handleProductTypeAndParams(m: unknown, p: object): [string, object] }).handleProductTypeAndParams;
  const [productType] = productOf.call(exchange, market, {});
  const query = { planType: 'profit_loss', productType, symbol: String(market.id), clientOid: clientOrderId };
  // Generated per exchange; absent from the base Exchange type.
  const api = exchange as unknown as Record<'privateMixGetV2MixOrderOrdersPlanPending' | 'privateMixGetV2MixOrderOrdersPlanHistory', (params: Record<string, string>) => Promise<unknown>>;
  for (const endpoint of ['privateMixGetV2MixOrderOrdersPlanPending', 'privateMixGetV2MixOrderOrdersPlanHistory'] as const) {
    const found = bitgetList(await api[endpoint](query)).find((row) => (row as { clientOid?: unknown }).clientOid === clientOrderId);
    if (found) return exchange.parseOrder(found as Record<string, unknown>, market);
  }
  return null;
};

const LOOKUPS: Readonly<Record<string, ClientIdLookup>> = { bybit, bitget };

export function clientIdLookup(exchangeId: string): ClientIdLookup {
  return LOOKUPS[exchangeId] ?? byCcxt;
}
