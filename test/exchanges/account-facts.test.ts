import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { loadNodeConfig } from '../../src/node/commands.js';
import { startNodeServer, type RunningNode } from '../../src/node/server.js';
import { createLogger } from '../../src/process/logger.js';
import type { ExchangeSim, PositionMode } from '../sim/exchange-sim.js';
import { startBitgetSim } from '../sim/bitget-sim.js';
import { startBybitSim } from '../sim/bybit-sim.js';
import { startOkxSim } from '../sim/okx-sim.js';

/**
 * What the node learns about an account from the exchange (ccxt's account
 * type detection, the position mode) is learnt once per account key, not
 * once per ccxt instance: with a cache of one instance, every account's
 * instance is rebuilt each time another account trades in between.
 */

const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

async function nodeFor(exchange: string, sim: ExchangeSim): Promise<RunningNode> {
  const config = loadNodeConfig(undefined, { port: 0, ccxt_cache_size: 1, exchange_urls: { [exchange]: sim.url } }, {});
  const node = await startNodeServer(config, createLogger({ level: 'error', format: 'json', stream: { write: () => undefined } }));
  closers.push(() => node.close());
  return node;
}

function accountOn(sim: ExchangeSim, exchange: string, id: number, passphrase: boolean, positionMode: PositionMode = 'one_way') {
  const apiKey = `k${id}${randomBytes(10).toString('hex')}`;
  const secret = randomBytes(16).toString('hex');
  const pass = passphrase ? `Pp${randomBytes(6).toString('hex')}` : undefined;
  sim.addAccount({ apiKey, secret, ...(pass ? { passphrase: pass } : {}), usdt: 100_000, positionMode });
  return { account_id: id, exchange, api_key: apiKey, api_secret: secret, ...(pass ? { passphrase: pass } : {}) };
}

async function entry(node: RunningNode, account: Record<string, unknown>, symbol: string, quantity: number): Promise<void> {
  const res = await fetch(`${node.url}/api/execute`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ signal: { signal_id: `facts-${randomBytes(4).toString('hex')}`, symbol, side: 'buy', quantity }, accounts: [account] }),
  });
  const body = (await res.json()) as { results: Array<{ success: boolean; error?: unknown }> };
  assert.equal(res.status, 200);
  assert.equal(body.results[0]?.success, true, JSON.stringify(body.results[0]?.error));
}

const DETECTION: Array<{ exchange: string; start: () => Promise<ExchangeSim>; passphrase: boolean; symbol: string; quantity: number; paths: string[] }> = [
  { exchange: 'bybit', start: startBybitSim, passphrase: false, symbol: 'BTC/USDT:USDT', quantity: 0.01, paths: ['/v5/user/query-api', '/v5/account/info'] },
  { exchange: 'bitget', start: startBitgetSim, passphrase: true, symbol: 'BTC/USDT:USDT', quantity: 0.01, paths: ['/api/v3/account/settings'] },
];

for (const venue of DETECTION) {
  test(`${venue.exchange}: ccxt's account-type detection is asked once per account, not again when its instance is rebuilt`, async () => {
    const sim = await venue.start();
    closers.push(() => sim.close());
    const node = await nodeFor(venue.exchange, sim);
    const a = accountOn(sim, venue.exchange, 1, venue.passphrase);
    const b = accountOn(sim, venue.exchange, 2, venue.passphrase);
    // a, then b (which evicts a's instance), then a on a new instance.
    await entry(node, a, venue.symbol, venue.quantity);
    await entry(node, b, venue.symbol, venue.quantity);
    await entry(node, a, venue.symbol, venue.quantity);
    for (const path of venue.paths) {
      assert.equal(sim.requestCount({ path, apiKey: a.api_key }), 1, `${path} for the account seen twice`);
      assert.equal(sim.requestCount({ path, apiKey: b.api_key }), 1, `${path} for the account seen once`);
    }
  });
}

test('okx: a hedge-mode account is learnt once; its rebuilt instance sends in hedge mode first', async () => {
  const sim = await startOkxSim();
  closers.push(() => sim.close());
  const node = await nodeFor('okx', sim);
  const hedge = accountOn(sim, 'okx', 1, true, 'hedge');
  const other = accountOn(sim, 'okx', 2, true);
  await entry(node, hedge, 'BTC/USDT:USDT', 0.01);
  assert.equal(sim.requestCount({ operation: 'place_order', apiKey: hedge.api_key }), 2, 'the first entry is refused once for the position mode, then sent in hedge mode');
  await entry(node, other, 'BTC/USDT:USDT', 0.01);
  await entry(node, hedge, 'BTC/USDT:USDT', 0.01);
  assert.equal(sim.requestCount({ operation: 'place_order', apiKey: hedge.api_key }), 3, 'the second entry, on a new instance, is sent once');
  const longs = sim.positions(hedge.api_key).filter((p) => p.side === 'long');
  assert.deepEqual(longs.map((p) => p.amount), [0.02]);
});
