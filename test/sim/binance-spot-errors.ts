import { BinanceError } from './binance-errors.js';

/**
 * Binance SPOT error answers: HTTP status plus `{"code", "msg"}`, codes and
 * texts from https://developers.binance.com/docs/binance-spot-api-docs/errors
 * (and, where the live API words it differently from that page, the live
 * wording ccxt's error table records). ccxt maps some of these by message
 * before it looks at the code, so the texts matter as much as the codes.
 */
const bad = (code: number, msg: string) => new BinanceError(400, code, msg);

/** -1013 INVALID_MESSAGE: the API refused the order before the matching engine. */
const filter = (name: string) => bad(-1013, `Filter failure: ${name}`);
/** -2010 NEW_ORDER_REJECTED: the matching engine refused the order. */
const rejected = (msg: string) => bad(-2010, msg);

export const spotErrors = {
  badApiKey: () => new BinanceError(401, -2015, 'Invalid API-key, IP, or permissions for action.'),
  rateLimit: () =>
    new BinanceError(429, -1003, 'Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.'),
  tooManyOrders: (limit: number, interval: string) => new BinanceError(429, -1015, `Too many new orders; current limit is ${limit} orders per ${interval}.`),
  unknownOutcome: () => new BinanceError(503, -1007, 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.'),
  unknownPath: () => new BinanceError(404, -1000, 'An unknown error occurred while processing the request.'),

  illegalChars: (name: string, range: string) => bad(-1100, `Illegal characters found in parameter '${name}'; legal range is '${range}'.`),
  mandatory: (name: string) => bad(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`),
  eitherParam: (a: string, b: string) => bad(-1102, `Param '${a}' or '${b}' must be sent, but both were empty/null!`),
  /** Binance counts every parameter it was sent (signature included) and those the endpoint read. */
  unread: (read: number, sent: number) => bad(-1104, `Not all sent parameters were read; read '${read}' parameter(s) but was sent '${sent}'.`),
  notRequired: (name: string) => bad(-1106, `Parameter '${name}' sent when not required.`),
  tifNotRequired: () => bad(-1114, 'TimeInForce parameter sent when not required.'),
  precision: (name: string) => bad(-1111, `Parameter '${name}' has too much precision.`),
  badTimeInForce: () => bad(-1115, 'Invalid timeInForce.'),
  badType: () => bad(-1116, 'Invalid orderType.'),
  badSide: () => bad(-1117, 'Invalid side.'),
  badSymbol: () => bad(-1121, 'Invalid symbol.'),
  badData: (name: string) => bad(-1130, `Data sent for parameter '${name}' is not valid.`),
  ocoType: () => bad(-1158, 'Order type not supported in OCO.'),
  buyLimitBelow: () => bad(-1165, 'A limit order in a buy OCO must be below.'),
  sellLimitAbove: () => bad(-1166, 'A limit order in a sell OCO must be above.'),
  bothLimit: () => bad(-1168, 'At least one OCO order must be contingent.'),
  buyStopAbove: () => bad(-1196, 'A stop loss order in a buy OCO must be above.'),
  sellStopBelow: () => bad(-1197, 'A stop loss order in a sell OCO must be below.'),
  buyTakeProfitBelow: () => bad(-1198, 'A take profit order in a buy OCO must be below.'),
  sellTakeProfitAbove: () => bad(-1199, 'A take profit order in a sell OCO must be above.'),

  priceFilter: () => filter('PRICE_FILTER'),
  percentPriceBySide: () => filter('PERCENT_PRICE_BY_SIDE'),
  lotSize: () => filter('LOT_SIZE'),
  marketLotSize: () => filter('MARKET_LOT_SIZE'),
  notional: () => filter('NOTIONAL'),
  maxNumOrders: () => filter('MAX_NUM_ORDERS'),
  maxNumAlgoOrders: () => filter('MAX_NUM_ALGO_ORDERS'),

  duplicate: () => rejected('Duplicate order sent.'),
  insufficientBalance: () => rejected('Account has insufficient balance for requested action.'),
  // The errors page lists "Order would trigger immediately."; the live API
  // answers this wording for stop prices (ccxt's table records both).
  wouldTrigger: () => rejected('Stop price would trigger immediately.'),
  wouldTake: () => rejected('Order would immediately match and take.'),
  ocoPrices: () => rejected('The relationship of the prices for the orders is not correct.'),

  unknownOrder: () => bad(-2011, 'Unknown order sent.'),
  noSuchOrder: () => bad(-2013, 'Order does not exist.'),
  /** Undocumented on the errors page; the live answer to an order-list lookup that finds nothing. */
  noSuchOrderList: () => bad(-2018, 'Order list does not exist.'),
};
