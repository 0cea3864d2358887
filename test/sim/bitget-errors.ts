/**
 * Bitget v2 error answers: an HTTP status plus
 * `{"code":"<5 digits>","msg":…,"requestTime":<ms>,"data":null}`.
 * Codes and texts come from Bitget's futures error-code page
 * (https://www.bitget.com/api-doc/contract/error-code/restapi) and, where a
 * real answer seen in the wild differs from or is missing on that page,
 * from the real answer (ccxt's own comments and issues quote them): ccxt
 * classifies Bitget errors by these exact codes.
 */
export class BitgetError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    msg: string,
  ) {
    super(msg);
  }

  body(now: number): Record<string, unknown> {
    return { code: this.code, msg: this.message, requestTime: now, data: null };
  }
}

const bad = (code: string, msg: string) => new BitgetError(400, code, msg);

export const errors = {
  // Authentication (checked before anything else).
  keyEmpty: () => bad('40001', 'ACCESS_KEY cannot be empty'),
  signEmpty: () => bad('40002', 'ACCESS_SIGN cannot be empty'),
  badTimestamp: () => bad('40005', 'Invalid ACCESS_TIMESTAMP'),
  badKey: () => bad('40006', 'Invalid ACCESS_KEY'),
  contentType: () => bad('40007', 'Invalid Content_Type'),
  timestampExpired: () => bad('40008', 'Request timestamp expired'),
  badSign: () => bad('40009', 'sign signature error'),
  passphraseEmpty: () => bad('40011', 'ACCESS_PASSPHRASE cannot be empty'),
  badPassphrase: () => bad('40012', 'apikey/password is incorrect'),
  // A Classic account asking the Unified Trading Account (v3) API; ccxt probes it once per instance.
  classicAccount: () => bad('40084', 'You are in Classic Account mode, and the Unified Account API is not supported at this time'),
  rateLimit: () => new BitgetError(429, '429', 'Too Many Requests'),
  systemBusy: () => bad('40015', 'System is abnormal, please try again later'),
  notFound: () => new BitgetError(404, '40404', 'Request URL NOT FOUND'),

  // Parameters.
  verification: () => bad('40017', 'Parameter verification failed'),
  empty: (name: string) => bad('40019', `Parameter ${name} cannot be empty`),
  paramError: (name: string) => bad('40020', `Parameter ${name} error`),
  badSymbol: () => bad('40102', 'Symbol does not exist'),
  clientOidLength: () => bad('40304', 'clientOid or clientOrderId length cannot greater than 50'),
  orderIdOrClientOid: () => bad('40924', 'orderId and clientOid must have one'),
  sizeScale: (raw: string, scale: number) => bad('40808', `Parameter verification exception size checkBDScale error value=${raw} checkScale=${scale}`),
  sizeMultiple: (raw: string, step: string) => bad('40808', `Parameter verification exception size=${raw} must be a multiple of ${step}`),
  marginModeMismatch: (configured: 'crossed' | 'isolated') => bad('40808', `Parameter verification exception margin mode == ${configured === 'isolated' ? 'FIXED' : 'CROSSED'}`),
  priceScale: () => bad('41103', 'param price scale error error'),
  priceAboveLimit: () => bad('40815', 'The order price is higher than the highest bid price'),
  priceBelowLimit: () => bad('40816', 'The order price is lower than the lowest selling price'),
  sizeBelowMin: (min: string) => bad('45111', `less than the minimum order quantity ${min}`),
  sizeAboveMax: (max: string) => bad('45112', `more than the maximum order quantity ${max}`),
  notionalBelowMin: (min: string) => bad('45110', `less than the minimum amount ${min} USDT`),

  // Orders.
  // The real answer (ccxt bitget.js comment, 2024); the error page words 40762 as "The order size is greater than the max open size".
  insufficientBalance: () => bad('40762', 'The order amount exceeds the balance'),
  duplicateClientOid: () => bad('40786', 'Duplicate clientOid'),
  // Real answer quoted in ccxt issues #19140 / #20729 and ccxt's own comment; missing from the error page.
  positionModeMismatch: () => bad('40774', 'The order type for unilateral position must also be the unilateral position type.'),
  orderNotFound: () => bad('40109', 'The data of the order cannot be found, please confirm the order number'),
  cancelNotFound: () => bad('40768', 'Order does not exist'),
  noPositionToClose: () => bad('22002', 'No position to close'),
  notEnoughPosition: () => bad('40757', 'Not enough position is available.'),

  // Take-profit / stop-loss.
  longTakeProfit: () => bad('40915', 'Long position take profit price please > mark price'),
  longStopLoss: (mark: string) => bad('40917', `Stop price for long positions please < mark price ${mark}`),
  shortStopLoss: (mark: string) => bad('45122', `Short position stop loss price please > mark price ${mark}`),
  shortTakeProfit: () => bad('43014', 'Take profit price needs to be <current price'),
  noPositionForTpsl: () => bad('40837', 'There is no position in this position, so stop-profit and stop-loss orders cannot be made'),
  insufficientPositionForTpsl: () => bad('43023', 'Insufficient position, can not set profit or stop loss'),
  takeProfitExists: () => bad('43030', 'Take profit order already existed'),
  stopLossExists: () => bad('43031', 'Stop loss order already existed'),

  // Account settings.
  // Real answer seen in the wild (several bots handle it by code); not on the error page.
  leverageTooHigh: () => bad('40797', 'Exceeded the maximum settable leverage'),
  positionModeLocked: () => bad('40920', 'Position or order exists, the position mode cannot be switched'),
  marginModeLocked: () => bad('45117', 'Currently holding positions or orders, the margin mode cannot be adjusted'),
};
