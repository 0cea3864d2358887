import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Binance SIGNED endpoint rule: `signature` is hex HMAC-SHA256, keyed with the
 * secret, of totalParams = the query string concatenated with the request
 * body, both exactly as sent and without the signature parameter itself.
 */
export function validSignature(secret: string, query: string, body: string, signature: string): boolean {
  const strip = (s: string) =>
    s
      .split('&')
      .filter((pair) => pair !== '' && !pair.startsWith('signature='))
      .join('&');
  const payload = strip(query) + strip(body);
  const expected = createHmac('sha256', secret).update(payload).digest();
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
