import { createHmac } from 'node:crypto';

/**
 * A signed Binance request written by hand from Binance's spec (USD-M and
 * spot sign alike), to test a simulator's protocol without ccxt. `split`
 * names the parameters sent in the query of a POST; the rest go in the body.
 */
export async function signedBinance(
  baseUrl: string,
  creds: { apiKey: string; secret: string },
  method: string,
  path: string,
  params: Record<string, string>,
  split?: { query: string[] },
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const all = new URLSearchParams({ ...params, timestamp: String(Date.now()) });
  const query = new URLSearchParams();
  const body = new URLSearchParams();
  for (const [k, v] of all) (split ? split.query.includes(k) : method !== 'POST') ? query.append(k, v) : body.append(k, v);
  // totalParams = query string + body, concatenated with no separator.
  const signature = createHmac('sha256', creds.secret).update(query.toString() + body.toString()).digest('hex');
  (body.toString() ? body : query).append('signature', signature);
  const res = await fetch(`${baseUrl}${path}${query.toString() ? `?${query}` : ''}`, {
    method,
    headers: { 'X-MBX-APIKEY': creds.apiKey, 'content-type': 'application/x-www-form-urlencoded' },
    ...(body.toString() ? { body: body.toString() } : {}),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}
