/**
 * Binance USD-M error answers, as documented: HTTP status plus
 * `{"code": <negative int>, "msg": <text>}`.
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

export const errors = {
  badApiKey: () => new BinanceError(401, -2015, 'Invalid API-key, IP, or permissions for action.'),
  badSignature: () => new BinanceError(400, -1022, 'Signature for this request is not valid.'),
  recvWindow: () => new BinanceError(400, -1021, 'Timestamp for this request is outside of the recvWindow.'),
  mandatory: (name: string) => new BinanceError(400, -1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`),
  illegalChars: (name: string) => new BinanceError(400, -1100, `Illegal characters found in parameter '${name}'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.`),
  badSymbol: () => new BinanceError(400, -1121, 'Invalid symbol.'),
  badSide: () => new BinanceError(400, -1117, 'Invalid side.'),
  badType: () => new BinanceError(400, -1116, 'Invalid orderType.'),
  precision: () => new BinanceError(400, -1111, 'Precision is over the maximum defined for this asset.'),
  qtyTooSmall: () => new BinanceError(400, -4003, 'Quantity less than or equal to zero.'),
  minNotional: (n: string) => new BinanceError(400, -4164, `Order's notional must be no smaller than ${n} (unless you choose reduce only).`),
  insufficientMargin: () => new BinanceError(400, -2019, 'Margin is insufficient.'),
  reduceOnlyRejected: () => new BinanceError(400, -2022, 'ReduceOnly Order is rejected.'),
  duplicateClientId: () => new BinanceError(400, -4116, 'ClientOrderId is duplicated.'),
  orderNotFound: () => new BinanceError(400, -2013, 'Order does not exist.'),
  unknownOrderSent: () => new BinanceError(400, -2011, 'Unknown order sent.'),
  immediateTrigger: () => new BinanceError(400, -2021, 'Order would immediately trigger.'),
  leverage: () => new BinanceError(400, -4028, 'Leverage is not valid'),
  rateLimit: () => new BinanceError(429, -1003, 'Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API.'),
  unknownPath: () => new BinanceError(404, -1000, 'Unknown path.'),
};
