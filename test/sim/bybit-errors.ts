/**
 * Bybit v5 error answers: the common envelope
 * `{"retCode", "retMsg", "result": {}, "retExtInfo": {}, "time"}` with the
 * codes of https://bybit-exchange.github.io/docs/v5/error (docs/v5/error.mdx).
 * Business errors come with HTTP 200; a wrong key or signature with HTTP 401
 * (the docs' HTTP table: "401 ... Need to use the correct key"). ccxt maps
 * them by retCode (and a few by message), so codes and texts matter.
 *
 * Where a text is not in the docs it is the one Bybit is seen answering
 * (issue threads, ccxt's comments); such texts are marked "(observed)".
 * Numbers inside Bybit's messages are its internal fixed-point values
 * (× 1e8), as in "order_qty:579700000000 > max_qty:360000000000".
 */
export class BybitError extends Error {
  constructor(
    readonly retCode: number,
    retMsg: string,
    readonly status = 200,
  ) {
    super(retMsg);
  }

  envelope(now: number): Record<string, unknown> {
    return { retCode: this.retCode, retMsg: this.message, result: {}, retExtInfo: {}, time: now };
  }
}

const fixed = (x: number) => String(Math.round(x * 1e8));
const param = (msg: string) => new BybitError(10001, msg);

export const errors = {
  // 100xx: request, authentication, limits.
  param,
  missing: (name: string) => param(`params error: ${name} is required`),
  badCategory: () => param('params error: Category is invalid'),
  symbolInvalid: () => param('params error: symbol invalid'),
  notSupportedSymbols: () => param('Not supported symbols'),
  timestamp: (req: number, server: number, window: number) =>
    new BybitError(10002, `invalid request, please check your server timestamp or recv_window param. req_timestamp[${req}],server_timestamp[${server}],recv_window[${window}]`),
  apiKeyInvalid: () => new BybitError(10003, 'API key is invalid.', 401),
  // (observed) Bybit echoes the string it expected to be signed.
  sign: (origin: string) => new BybitError(10004, `error sign! origin_string[${origin}]`, 401),
  tooManyVisits: () => new BybitError(10006, 'Too many visits!'),
  // (observed) The answer ccxt's table lists for a backend timeout; ccxt turns "Request timeout" into RequestTimeout.
  requestTimeout: () => new BybitError(10016, 'Request timeout, please try again later'),
  routeNotFound: () => new BybitError(10017, 'Route not found', 404),

  // 110xxx: orders and positions.
  orderNotExists: () => new BybitError(110001, 'order not exists or too late to cancel'),
  // (observed) ccxt's comment: {"retCode":110007,"retMsg":"ab not enough for new order"}.
  insufficientAvailable: () => new BybitError(110007, 'ab not enough for new order'),
  reduceOnlyZero: () => new BybitError(110017, 'current position is zero, cannot fix reduce-only order qty'),
  reduceOnlySide: () => new BybitError(110017, 'Reduce-only rule not satisfied'),
  positionModeWithPosition: () => new BybitError(110024, 'You have an existing position, so the position mode cannot be switched.'),
  positionModeNotModified: () => new BybitError(110025, 'Position mode is not modified'),
  marginModeNotModified: () => new BybitError(110026, 'Cross/isolated margin mode is not modified'),
  positionModeWithOrders: () => new BybitError(110028, 'You have existing open orders, so the position mode cannot be switched.'),
  leverageNotModified: () => new BybitError(110043, 'leverage not modified'),
  duplicateLinkId: () => new BybitError(110072, 'OrderLinkedID is duplicate'),
  expectRising: (trigger: number, current: number, by: string) =>
    new BybitError(110092, `expect Rising, but trigger_price[${fixed(trigger)}] <= current[${fixed(current)}]??${by}`),
  expectFalling: (trigger: number, current: number, by: string) =>
    new BybitError(110093, `expect Falling, but trigger_price[${fixed(trigger)}] >= current[${fixed(current)}]??${by}`),
  minNotional: (min: string) => new BybitError(110094, `Order does not meet minimum order value ${min}USDT`),

  // 10001 variants Bybit uses for order parameters (observed texts).
  qtyTooLarge: (qty: number, max: number) => param(`The number of contracts exceeds maximum limit allowed: too large, order_qty:${fixed(qty)} > max_qty:${fixed(max)}`),
  qtyTooSmall: (qty: number, min: number) => param(`The number of contracts exceeds minimum limit allowed: too small, order_qty:${fixed(qty)} < min_qty:${fixed(min)}`),
  qtyStep: () => param('Qty invalid'),
  priceTick: () => param('Price invalid'),
  priceRange: () => param('params error: price out of range'),
  positionIdx: () => param('position idx not match position mode'),
  triggerDirection: () => param('params error: triggerDirection invalid'),
  leverageInvalid: () => param('leverage invalid'),
  leverageOneWay: () => param('buy leverage must equal to sell leverage in one-way mode'),
  takeProfitSide: (tp: number, base: number, side: 'Buy' | 'Sell', by: string) =>
    param(`TakeProfit:${fixed(tp)} set for ${side} position should be ${side === 'Buy' ? 'higher' : 'lower'} than base_price:${fixed(base)}??${by}`),
  stopLossSide: (sl: number, base: number, side: 'Buy' | 'Sell', by: string) =>
    param(`StopLoss:${fixed(sl)} set for ${side} position should ${side === 'Buy' ? 'lower' : 'higher'} than base_price:${fixed(base)}??${by}`),
  zeroPositionTpsl: () => param('can not set tp/sl/ts for zero position'),
  tpslSizeMismatch: () => param('tpSize must equal to slSize'),
  eitherId: () => param('params error: orderId or orderLinkId is required'),
  symbolOrCoin: () => param('Missing some parameters that must be filled in, symbol or settleCoin or baseCoin'),
  linkIdInvalid: () => param('params error: orderLinkId invalid'),
  notSimulated: (what: string) => param(`${what} is not simulated`),
};
