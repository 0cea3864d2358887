import assert from 'node:assert/strict';
import type { CenterHarness } from './center-harness.js';

/** A strategy followed by paper accounts of one owner, one per multiplier. */
export interface PaperFollowers {
  owner: number;
  accounts: number[];
  /** The accounts' API keys, to reach the same paper accounts outside the center. */
  keys: string[];
  secret: string;
  /** Posts a signal of the strategy with `?wait=true` and answers the signal view. */
  send(signal: Record<string, unknown>): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a JSON view, read field by field in the tests
}

export async function paperFollowers(h: CenterHarness, code: string, multipliers: number[], symbol = 'SOL/USDT:USDT'): Promise<PaperFollowers> {
  const owner = (await h.api('POST', '/api/users', { username: `${code}-owner`, points: 1000 })).body.user.id;
  await h.api('POST', '/api/strategies', { strategy_code: code });
  const secret = `${code}-secret`;
  const accounts: number[] = [];
  const keys: string[] = [];
  for (const [i, multiplier] of multipliers.entries()) {
    keys.push(`${code}-key-${i}`);
    const id = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'paper', api_key: keys[i], api_secret: secret })).body.account.id;
    await h.api('POST', `/api/strategies/${code}/bindings`, { account_id: id, multiplier });
    accounts.push(id);
  }
  return {
    owner,
    accounts,
    keys,
    secret,
    async send(signal) {
      const res = await h.api('POST', '/api/signals?wait=true', { strategy_code: code, symbol, ...signal });
      assert.equal(res.status, 201, res.text);
      return res.body.signal;
    },
  };
}
