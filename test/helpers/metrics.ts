import { setTimeout as sleep } from 'node:timers/promises';
import { call, type CallResult } from './node-harness.js';

/** GET {url}/metrics, with a Bearer token when one is given. */
export const scrape = (url: string, token?: string): Promise<CallResult> =>
  call(`${url}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });

/** The value of one exact series line (name and labels) in a Prometheus text page. */
export function seriesValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * Scrapes until `ready` holds for the page (or 10 s pass, then returns the last
 * page for the assertions to report). A worker records a job's count and the
 * queue loses it only after the ack, which follows the commit a test waits for.
 */
export async function scrapeUntil(url: string, token: string | undefined, ready: (text: string) => boolean): Promise<CallResult> {
  const end = Date.now() + 10_000;
  for (;;) {
    const res = await scrape(url, token);
    if (res.status !== 200 || ready(res.text) || Date.now() > end) return res;
    await sleep(50);
  }
}
