/**
 * Binance USD-M error answers as the real API sends them: an HTTP status
 * plus `{"code": <negative int>, "msg": <text>}`. Codes and texts follow
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code
 * because ccxt maps them by code (and a few by message) to its error classes.
 */
export class BinanceError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    msg: string,
  ) {
    super(msg);
  }

  body(): string {
    return JSON.stringify({ code: this.code, msg: this.message });
  }
}

const bad = (code: number, msg: string) => new BinanceError(400, code, msg);

export const errors = {
  // 10xx: request and authentication. Binance answers key problems with 401.
  badApiKey: () => new BinanceError(401, -2015, 'Invalid API-key, IP, or permissions for action.'),
  apiKeyFormat: () => new BinanceError(401, -2014, 'API-key format invalid.'),
  badSignature: () => bad(-1022, 'Signature for this request is not valid.'),
  recvWindow: () => bad(-1021, 'Timestamp for this request is outside of the recvWindow.'),
  aheadOfServer: () => bad(-1021, "Timestamp for this request was 1000ms ahead of the server's time."),
  badRecvWindow: () => bad(-1131, 'recvWindow must be less than 60000'),
  mandatory: (name: string) => bad(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`),
  eitherParam: (a: string, b: string) => bad(-1102, `Param '${a}' or '${b}' must be sent, but both were empty/null!`),
  illegalChars: (name: string) => bad(-1100, `Illegal characters found in parameter '${name}'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.`),
  badSymbol: () => bad(-1121, 'Invalid symbol.'),
  badSide: () => bad(-1117, 'Invalid side.'),
  badType: () => bad(-1116, 'Invalid orderType.'),
  badTimeInForce: () => bad(-1115, 'Invalid timeInForce.'),
  notRequired: (name: string) => bad(-1106, `Parameter '${name}' sent when not required.`),
  // Binance names the parameter in lower case here ("Parameter 'reduceonly' sent when not required.", as
  // users report it: go-binance #521, nautilus_trader #4231), unlike its closePosition refusal.
  reduceOnlyInHedgeMode: () => bad(-1106, "Parameter 'reduceonly' sent when not required."),
  badData: (name: string) => bad(-1130, `Data sent for parameter '${name}' is not valid.`),
  precision: () => bad(-1111, 'Precision is over the maximum defined for this asset.'),
  rateLimit: () =>
    new BinanceError(429, -1003, 'Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API.'),
  // The "outcome unknown" answer Binance documents for HTTP 503: the request
  // reached the matching engine and may or may not have been executed.
  unknownOutcome: () => new BinanceError(503, -1007, 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.'),
  unknownPath: () => new BinanceError(404, -1000, 'An unknown error occured while processing the request.'),

  // 20xx: order lifecycle.
  orderNotFound: () => bad(-2013, 'Order does not exist.'),
  unknownOrderSent: () => bad(-2011, 'Unknown order sent.'),
  insufficientMargin: () => bad(-2019, 'Margin is insufficient.'),
  immediateTrigger: () => bad(-2021, 'Order would immediately trigger.'),
  reduceOnlyRejected: () => bad(-2022, 'ReduceOnly Order is rejected.'),

  // 40xx: filters and account settings.
  priceNotPositive: () => bad(-4001, 'Price less than 0.'),
  priceAboveMax: () => bad(-4002, 'Price greater than max price.'),
  qtyNotPositive: () => bad(-4003, 'Quantity less than or equal to zero.'),
  qtyBelowMin: () => bad(-4004, 'Quantity less than min quantity.'),
  qtyAboveMax: () => bad(-4005, 'Quantity greater than max quantity.'),
  priceBelowMin: () => bad(-4013, 'Price less than min price.'),
  priceTick: () => bad(-4014, 'Price not increased by tick size.'),
  limitTooHigh: (cap: string) => bad(-4016, `Limit price can't be higher than ${cap}.`),
  qtyStep: () => bad(-4023, 'Qty not increased by step size.'),
  limitTooLow: (floor: string) => bad(-4024, `Limit price can't be lower than ${floor}.`),
  leverage: (value: string) => bad(-4028, `Leverage ${value} is not valid`),
  marginTypeUnchanged: () => bad(-4046, 'No need to change margin type.'),
  marginTypeWithPosition: () => bad(-4048, 'Margin type cannot be changed if there exists position.'),
  positionSideUnchanged: () => bad(-4059, 'No need to change position side.'),
  badPositionSide: () => bad(-4060, 'Invalid position side.'),
  positionSideWithOrders: () => bad(-4067, 'Position side cannot be changed if there exists open orders.'),
  positionSideWithPosition: () => bad(-4068, 'Position side cannot be changed if there exists position.'),
  duplicateClientId: () => bad(-4116, 'ClientOrderId is duplicated.'),
  reduceOnlyMargin: () => bad(-4118, 'ReduceOnly Order Failed. Please check your existing position and open orders.'),
  useAlgoEndpoint: () => bad(-4120, 'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.'),
  positionSideMismatch: () => bad(-4061, "Order's position side does not match user's setting."),
  minNotional: (n: string) => bad(-4164, `Order's notional must be no smaller than ${n} (unless you choose reduce only).`),
  postOnlyRejected: () => bad(-5022, 'Due to the order could not be executed as maker, the Post Only order will be rejected.'),
};
