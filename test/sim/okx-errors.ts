/**
 * OKX v5 error answers. Codes, HTTP statuses and texts follow the error-code
 * tables of https://www.okx.com/docs-v5/en/#error-code-rest-api (public
 * 50000-53999, account 59000-59999), because ccxt maps them by code.
 *
 * OKX answers in two ways, and ccxt reads both: a request-level failure is
 * `{"code":"<code>","data":[],"msg":"<text>"}` with the table's HTTP status;
 * a failure of one order inside a place/cancel answer is HTTP 200 with
 * `"code":"1"` and the real reason in that item's `sCode` / `sMsg`.
 */
export class OkxError extends Error {
  constructor(
    readonly code: string,
    msg: string,
    readonly status = 200,
    /** The sub-code OKX reports beside some codes (51008_1001 → "1001"). */
    readonly subCode = '',
  ) {
    super(msg);
  }

  /** The request-level envelope. */
  body(): Record<string, unknown> {
    return { code: this.code, data: [], msg: this.message };
  }
}

const at200 = (code: string, msg: string, subCode = '') => new OkxError(code, msg, 200, subCode);
const at400 = (code: string, msg: string) => new OkxError(code, msg, 400);
const at401 = (code: string, msg: string) => new OkxError(code, msg, 401);

export const errors = {
  // General class.
  emptyBody: () => at400('50000', 'Body for POST request cannot be empty.'),
  badJson: () => at400('50002', 'JSON syntax error'),
  // Documented as "does not mean that the request was successful or failed".
  endpointTimeout: () =>
    at400('50004', 'API endpoint request timeout. (does not mean that the request was successful or failed, please check the request result)'),
  badContentType: () => at400('50006', 'Invalid Content-Type. Please use "application/JSON".'),
  rateLimit: () => new OkxError('50011', 'Too Many Requests', 429),
  empty: (name: string) => at400('50014', `Parameter ${name} can not be empty.`),
  either: (a: string, b: string) => at400('50015', `Either parameter ${a} or ${b} is required`),
  systemError: () => new OkxError('50026', 'System error. Try again later', 500),

  // API class: every authentication failure is HTTP 401.
  timestampExpired: () => at401('50102', 'Timestamp request expired.'),
  noKey: () => at401('50103', 'Request header "OK-ACCESS-KEY" cannot be empty.'),
  noPassphrase: () => at401('50104', 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.'),
  badPassphrase: () => at401('50105', 'Request header "OK-ACCESS-PASSPHRASE" incorrect.'),
  noSign: () => at401('50106', 'Request header "OK-ACCESS-SIGN" cannot be empty.'),
  noTimestamp: () => at401('50107', 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.'),
  badKey: () => at401('50111', 'Invalid OK-ACCESS-KEY.'),
  badTimestamp: () => at401('50112', 'Invalid OK-ACCESS-TIMESTAMP.'),
  badSign: () => at401('50113', 'Invalid signature.'),
  badMethod: () => new OkxError('50115', 'Invalid request method.', 405),

  // Trade class. 51000 is HTTP 400 at request level, an sCode inside order answers.
  param: (name: string) => at400('51000', `Parameter ${name} error`),
  noInstrument: () => at200('51001', "Instrument ID, Instrument ID code, or Spread ID doesn't exist."),
  eitherOrderId: () => at200('51003', 'Either client order ID or order ID is required.'),
  aboveMaxLimitSize: () => at200('51005', 'Your order amount exceeds the max order amount.'),
  priceLimit: (maxBuy: string, minSell: string) => at200('51006', `Order price is not within the price limit (max buy price: ${maxBuy} , min sell price: ${minSell} )`),
  insufficientMargin: () => at200('51008', 'Order failed. Insufficient USDT margin in account', '1001'),
  duplicateClOrdId: () => at200('51016', 'Client order ID already exists.'),
  belowMinSize: () => at200('51020', 'Your order should meet or exceed the minimum order amount.'),
  tpAboveOrderPx: () => at200('51046', 'The take profit trigger price must be higher than the order price'),
  slBelowOrderPx: () => at200('51047', 'The stop loss trigger price must be lower than the order price'),
  tpBelowOrderPx: () => at200('51048', 'The take profit trigger price must be lower than the order price'),
  slAboveOrderPx: () => at200('51049', 'The stop loss trigger price must be higher than the order price'),
  tpAboveAsk: () => at200('51050', 'The take profit trigger price must be higher than the best ask price'),
  slBelowAsk: () => at200('51051', 'The stop loss trigger price must be lower than the best ask price'),
  tpBelowBid: () => at200('51052', 'The take profit trigger price must be lower than the best bid price'),
  slAboveBid: () => at200('51053', 'The stop loss trigger price must be higher than the best bid price'),
  duplicateAlgoClOrdId: () => at200('51065', 'algoClOrdId already exists.'),
  algoIdClash: (id: string) => at200('51068', `${id} already exists within algoClOrdId and attachAlgoClOrdId.`),
  splitOneWay: () => at200('51076', "TP/SL orders in Split TPs only support one-way TP/SL. You can't use slTriggerPx&slOrdPx and tpTriggerPx&tpOrdPx at the same time."),
  splitTooManyTps: (n: number) => at200('51079', `The number of TP orders with Split TPs attached in a same order cannot exceed ${n}`),
  splitSizeSum: () => at200('51083', 'The total size of TP orders with Split TPs attached in a same order should equal the size of this order'),
  splitTooManySls: (n: number) => at200('51084', `The number of SL orders with Split TPs attached in a same order cannot exceed ${n}`),
  oneClosePosition: () => at200('51088', 'You can only place 1 TP/SL order to close an entire position'),
  splitTpNoSize: () => at200('51089', 'The size of the TP order among split TPs attached cannot be empty'),
  attachOnReduceOnly: () => at200('51100', 'Unable to place order. Take profit/Stop loss conditions cannot be added to reduce-only orders.'),
  bulkLimit: (n: number) => at200('51111', `Maximum ${n} orders can be placed in bulk.`),
  closeExceedsPosition: () => at200('51112', 'Close order size exceeds available size for this position.'),
  lotSize: () => at200('51121', 'Order quantity must be a multiple of the lot size.'),
  noPositionToReduce: () => at200('51169', "Order failed because you don't have any positions in this direction for this contract to reduce or close."),
  reduceSameDirection: () => at200('51170', 'Failed to place order. A reduce-only order can’t be the same trading direction as your existing positions.'),
  aboveMaxMarketSize: () => at200('51202', 'Market order amount exceeds the maximum amount.'),
  attachNeedsPrices: () => at200('51178', "tpTriggerPx&tpOrdPx or slTriggerPx&slOrdPx can't be empty when using attachAlgoClOrdId."),
  // Trigger side of a TP/SL against the price type it watches (last / mark / index).
  tpNotAbove: (type: string) => at200(({ last: '51277', mark: '51300', index: '51305' } as Record<string, string>)[type] ?? '51277', `TP trigger price cannot be higher than the ${type} price.`),
  slNotBelow: (type: string) => at200(({ last: '51278', mark: '51302', index: '51306' } as Record<string, string>)[type] ?? '51278', `SL trigger price cannot be lower than the ${type} price.`),
  tpNotBelow: (type: string) => at200(({ last: '51279', mark: '51303', index: '51307' } as Record<string, string>)[type] ?? '51279', `TP trigger price cannot be lower than the ${type} price.`),
  slNotAbove: (type: string) => at200(({ last: '51280', mark: '51304', index: '51308' } as Record<string, string>)[type] ?? '51280', `SL trigger price cannot be higher than the ${type} price.`),
  stopAboveMax: () => at200('51275', 'The amount of single stop-market order cannot exceed the upper limit.'),
  bothParams: (a: string, b: string) => at200('50024', `Parameter ${a} and ${b} can not exist at the same time.`),
  attachOnHedgeClose: () => at200('51333', 'Close position order in hedge-mode or reduce-only order in one-way mode cannot attach TPSL'),
  eitherCancelId: () => at200('51407', 'Either order ID or client order ID is required.'),
  closeFractionReduceOnly: () => at200('51328', 'closeFraction is only available for reduceOnly orders'),
  cancelFailed: () => at200('51400', 'Order cancellation failed as the order has been filled, canceled or does not exist.'),
  algoTriggered: () => at200('51416', "Order has been triggered and can't be canceled"),
  orderNotFound: () => at200('51603', 'Order does not exist.'),

  // Account class.
  settingsBlocked: () => at200('59000', 'Settings failed. Close any open positions or orders before modifying settings.'),
  leverageTooHigh: () => at200('59102', 'Leverage exceeds the maximum limit. Please lower the leverage.'),
  leverageTooLow: (min: string) => at400('59105', `Leverage can't be less than ${min}. Please increase the leverage.`),
  leverageMarginShort: () => at200('59108', 'Your account leverage is too low and has insufficient margins. Please increase the leverage.'),
};

/** HTTP statuses the error tables give per code, for queued 'reject' faults. */
export function statusOf(code: string): number {
  if (code === '50011' || code === '50013' || code === '51113' || code === '51115') return 429;
  if (code === '50026' || code === '51054' || code === '51149') return 500;
  if (code === '50001') return 503;
  if (code === '50005') return 410;
  if (code === '50115') return 405;
  if (/^501(0[1-9]|1[0-4])$/.test(code)) return 401;
  if (['50000', '50002', '50004', '50006', '50014', '50015', '50016', '50100', '51000', '59105'].includes(code)) return 400;
  return 200;
}

export const ok = (data: unknown[]): Record<string, unknown> => ({ code: '0', data, msg: '' });
