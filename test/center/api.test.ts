import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authHeaders } from '../../src/core/signing.js';
import { fromUnits, MAX_BALANCE_UNITS, toUnits } from '../../src/center/settle/units.js';
import { ADMIN_TOKEN, startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { DIALECTS, onDialect } from '../helpers/databases.js';
import { call, type CallResult } from '../helpers/node-harness.js';

const NODE_SECRET = 'api-test-node-secret-0123456789';

const ADMIN_ROUTES: Array<[string, string]> = [
  ['POST', '/api/nodes'],
  ['GET', '/api/nodes'],
  ['GET', '/api/nodes/x'],
  ['PATCH', '/api/nodes/x'],
  ['DELETE', '/api/nodes/x'],
  ['POST', '/api/accounts'],
  ['GET', '/api/accounts'],
  ['GET', '/api/accounts/1'],
  ['PATCH', '/api/accounts/1'],
  ['PUT', '/api/accounts/1/node'],
  ['GET', '/api/accounts/1/balances'],
  ['GET', '/api/accounts/1/positions'],
  ['POST', '/api/users'],
  ['GET', '/api/users'],
  ['GET', '/api/users/1'],
  ['POST', '/api/users/1/points'],
  ['GET', '/api/users/1/ledger'],
  ['GET', '/api/settlement'],
  ['POST', '/api/strategies'],
  ['GET', '/api/strategies'],
  ['GET', '/api/strategies/x'],
  ['PATCH', '/api/strategies/x'],
  ['POST', '/api/strategies/x/bindings'],
  ['DELETE', '/api/strategies/x/bindings/1'],
  ['POST', '/api/signals'],
  ['GET', '/api/signals'],
  ['GET', '/api/signals/x'],
  ['POST', '/api/sync/balance'],
  ['POST', '/api/sync/positions'],
];

function expectError(res: CallResult, status: number, code: string, field?: string) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body?.success, false, res.text);
  assert.equal(res.body.error.code, code, res.text);
  if (field) assert.equal(res.body.error.field, field, res.text);
  assert.ok(!/node_modules|\.ts:\d+|at \w+ \(/.test(res.text), 'no stack trace');
}

for (const dialect of DIALECTS) {
  describe(`data API on ${dialect}`, onDialect(dialect), () => {
    let h: CenterHarness;
    before(async () => {
      h = await startCenterHarness(dialect, { node_auth_secret: NODE_SECRET, require_points: true });
    });
    after(() => h?.close());

    test('every admin endpoint refuses a missing or wrong token with a plain 401', async () => {
      for (const [method, path] of ADMIN_ROUTES) {
        for (const token of ['', 'wrong-token-wrong-token-0000']) {
          const res = await h.api(method, path, method === 'GET' || method === 'DELETE' ? undefined : {}, token);
          assert.equal(res.status, 401, `${method} ${path} with ${token ? 'a wrong' : 'no'} token: ${res.text}`);
          assert.deepEqual(res.body.error, { code: 'unauthorized', message: 'authentication required' });
        }
      }
      assert.equal((await call(`${h.url}/health`)).status, 200, '/health is open');
    });

    test('bad input is a 400 naming the field, on every writing endpoint', async () => {
      const cases: Array<[string, string, unknown, string]> = [
        ['POST', '/api/nodes', { node_code: 'bad code!', base_url: 'http://x' }, 'node_code'],
        ['POST', '/api/nodes', { node_code: 'n1', base_url: 'ftp://x' }, 'base_url'],
        ['PATCH', '/api/nodes/n1', { status: 7 }, 'status'],
        ['POST', '/api/users', { username: '' }, 'username'],
        ['POST', '/api/users', { username: 'u', points: -5 }, 'points'],
        ['POST', '/api/users/1/points', { amount: 'lots' }, 'amount'],
        ['POST', '/api/accounts', { user_id: 1, exchange: 'binanceusdm', api_key: 'k' }, 'api_secret'],
        ['POST', '/api/accounts', { user_id: 'one', exchange: 'binanceusdm', api_key: 'k', api_secret: 's' }, 'user_id'],
        ['PUT', '/api/accounts/1/node', { node_code: 5 }, 'node_code'],
        ['POST', '/api/strategies', { strategy_code: 'has space' }, 'strategy_code'],
        ['POST', '/api/strategies/x/bindings', { account_id: 1, multiplier: 0 }, 'multiplier'],
        ['POST', '/api/signals', { symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 1 }, 'strategy_code'],
        ['POST', '/api/signals', { strategy_code: 's', symbol: 'BTC/USDT:USDT', side: 'hold', quantity: 1 }, 'side'],
        ['POST', '/api/signals', { strategy_code: 's', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: -1 }, 'quantity'],
        ['POST', '/api/sync/balance', { account_ids: 'all' }, 'account_ids'],
        // Absurd values are refused at the door, not left to the exchanges (or the database) to refuse.
        ['POST', '/api/signals', { strategy_code: 's', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 1e300 }, 'quantity'],
        ['POST', '/api/signals', { strategy_code: 's', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: '1e13' }, 'quantity'],
        ['POST', '/api/signals', { strategy_code: 's', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 1, order_type: 'limit', price: 1e300 }, 'price'],
        ['POST', '/api/signals', { strategy_code: 's', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 1, stop_loss: 'Infinity' }, 'stop_loss'],
        ['POST', '/api/signals', { strategy_code: 's', signal_id: 1e300, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 1 }, 'signal_id'],
        ['POST', '/api/sync/balance', { account_ids: [1e300] }, 'account_ids[0]'],
        ['POST', '/api/accounts', { user_id: 1e300, exchange: 'paper', api_key: 'k', api_secret: 's' }, 'user_id'],
        ['POST', '/api/strategies/x/bindings', { account_id: 2 ** 60 }, 'account_id'],
        ['POST', '/api/nodes', { node_code: 'long', base_url: `http://x/${'a'.repeat(600)}` }, 'base_url'],
      ];
      await h.api('POST', '/api/users', { username: 'someone' });
      await h.api('POST', '/api/strategies', { strategy_code: 'x' });
      await h.api('POST', '/api/nodes', { node_code: 'n1', base_url: 'http://127.0.0.1:1' });
      for (const [method, path, body, field] of cases) expectError(await h.api(method, path, body), 400, 'invalid_request', field);
      expectError(await h.api('POST', '/api/users', '{oops'), 400, 'invalid_json');
      expectError(await h.api('POST', '/api/users', '[]'), 400, 'invalid_request', '(body)');
      expectError(await h.api('GET', '/api/accounts/abc'), 400, 'invalid_request', 'id');
      expectError(await h.api('GET', '/api/accounts/abc/balances'), 400, 'invalid_request', 'id');
      expectError(await h.api('GET', '/api/accounts/1e99/positions'), 400, 'invalid_request', 'id');
      expectError(await h.api('POST', '/api/users', JSON.stringify({ username: 'x', pad: 'y'.repeat(300_000) })), 413, 'payload_too_large');
    });

    test('the longest request id a caller may send is stored with its signal', async () => {
      await h.api('POST', '/api/strategies', { strategy_code: 'rid' });
      const id = `r-${'x'.repeat(126)}`;
      const res = await call(`${h.url}/api/signals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}`, 'x-request-id': id },
        body: JSON.stringify({ strategy_code: 'rid', signal_id: 'long-request-id', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 }),
      });
      assert.equal(res.status, 202, res.text);
      assert.equal(res.headers.get('x-request-id'), id);
      assert.equal((await h.api('GET', '/api/signals/long-request-id')).body.signal.request_id, id);
    });

    test('unknown records are 404 and duplicates 409', async () => {
      expectError(await h.api('GET', '/api/nodes/nope'), 404, 'not_found');
      expectError(await h.api('GET', '/api/users/999'), 404, 'not_found');
      expectError(await h.api('GET', '/api/signals/nope'), 404, 'not_found');
      expectError(await h.api('POST', '/api/accounts', { user_id: 999, exchange: 'paper', api_key: 'k', api_secret: 's' }), 404, 'not_found');
      expectError(await h.api('POST', '/api/signals', { strategy_code: 'nope', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 1 }), 404, 'not_found');
      expectError(await h.api('POST', '/api/users', { username: 'dupe' }).then(() => h.api('POST', '/api/users', { username: 'dupe' })), 409, 'conflict');
      expectError(await h.api('POST', '/api/nodes', { node_code: 'n1', base_url: 'http://x' }), 409, 'conflict');
    });

    test('a node with accounts cannot be deleted; accounts can be moved off it first', async () => {
      const user = (await h.api('POST', '/api/users', { username: 'mover' })).body.user.id;
      const account = (await h.api('POST', '/api/accounts', { user_id: user, exchange: 'paper', api_key: 'mover-key-123', api_secret: 'mover-secret', node_code: 'n1' })).body.account;
      assert.equal(account.node.node_code, 'n1');
      expectError(await h.api('DELETE', '/api/nodes/n1'), 409, 'conflict');
      assert.equal((await h.api('PUT', `/api/accounts/${account.id}/node`, { node_code: null })).body.account.execution, 'center');
      assert.equal((await h.api('DELETE', '/api/nodes/n1')).status, 200);
    });

    test('with require_points, an owner without points is skipped with insufficient_points', async () => {
      const broke = (await h.api('POST', '/api/users', { username: 'broke' })).body.user.id;
      const rich = (await h.api('POST', '/api/users', { username: 'rich', points: 10 })).body.user.id;
      await h.api('POST', '/api/strategies', { strategy_code: 'pts' });
      for (const [owner, key] of [[broke, 'broke-key-1234'], [rich, 'rich-key-12345']] as const) {
        const acct = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'paper', api_key: key, api_secret: 'secret-123' })).body.account;
        await h.api('POST', '/api/strategies/pts/bindings', { account_id: acct.id });
      }
      const res = await h.api('POST', '/api/signals?wait=true', { strategy_code: 'pts', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.001 });
      const statuses = res.body.signal.orders.map((o: { status: string; error: { code: string } | null }) => [o.status, o.error?.code ?? null]);
      assert.deepEqual(statuses, [['skipped', 'insufficient_points'], ['filled', null]]);
      const topped = await h.api('POST', `/api/users/${broke}/points`, { amount: 5, idempotency_key: 'topup-1' });
      assert.equal(topped.body.user.points, '5');
      const again = await h.api('POST', `/api/users/${broke}/points`, { amount: 5, idempotency_key: 'topup-1' });
      assert.equal(again.body.applied, false);
      assert.equal(again.body.user.points, '5', 'the same top-up key applies once');
    });

    test("a binding that takes one account's quantity past the bound skips that account only", async () => {
      const owner = (await h.api('POST', '/api/users', { username: 'big-binder', points: 10 })).body.user.id;
      await h.api('POST', '/api/strategies', { strategy_code: 'big' });
      for (const [key, multiplier] of [['big-key-123456', 1000], ['minnow-key-1234', 1]] as const) {
        const acct = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'paper', api_key: key, api_secret: 'secret-123' })).body.account;
        await h.api('POST', '/api/strategies/big/bindings', { account_id: acct.id, multiplier });
      }
      const res = await h.api('POST', '/api/signals?wait=true', { strategy_code: 'big', symbol: 'SOL/USDT:USDT', side: 'buy', quantity: 1e10, order_type: 'limit', price: 0.000001 });
      assert.equal(res.status, 201, res.text);
      const [whale, minnow] = res.body.signal.orders;
      assert.deepEqual([whale.status, whale.error?.code], ['skipped', 'invalid_order']);
      assert.match(whale.error.message, /quantity 10000000000000 .*multiplier 1000.* above the largest accepted, 1e\+12/);
      assert.equal(minnow.status, 'filled', JSON.stringify(minnow));
    });

    test('a balance past 2^53 units reads back exactly in every view; a top-up past the cap is a 409 naming amount and changes nothing', async () => {
      const topups = async () => (await h.api('GET', '/api/settlement')).body.totals.topup ?? '0';
      const before = toUnits(await topups());
      const created = await h.api('POST', '/api/users', { username: 'whale', points: '9999999.99' });
      assert.equal(created.status, 201, created.text);
      const id = created.body.user.id;
      for (let i = 0; i < 10; i++) assert.equal((await h.api('POST', `/api/users/${id}/points`, { amount: 9_999_999.99 })).status, 200);
      const units = 11n * 999_999_999n * 10n ** 6n;
      assert.ok(units > 2n ** 53n);
      const one = await h.api('GET', `/api/users/${id}`);
      assert.equal(one.status, 200, one.text);
      assert.equal(one.body.user.points, '109999999.89');
      const all = await h.api('GET', '/api/users');
      assert.equal(all.status, 200, all.text);
      assert.equal(all.body.users.find((u: { id: number }) => u.id === id).points, '109999999.89');
      const ledger = await h.api('GET', `/api/users/${id}/ledger`);
      assert.deepEqual(ledger.body.entries.map((e: { amount: string }) => e.amount), Array(11).fill('9999999.99'));
      assert.equal(await topups(), fromUnits(before + units));

      // Just below the cap, then exactly at it: still taken.
      await h.center.ctx.db.kysely.updateTable('dim_user').set({ points_units: MAX_BALANCE_UNITS - toUnits(5) - 1n }).where('id', '=', id).execute();
      assert.equal((await h.api('POST', `/api/users/${id}/points`, { amount: '5.00000001' })).body.user.points, fromUnits(MAX_BALANCE_UNITS));
      assert.equal(fromUnits(MAX_BALANCE_UNITS), '10000000000');
      const entries = (await h.api('GET', `/api/users/${id}/ledger`)).body.entries.length;
      const refused = await h.api('POST', `/api/users/${id}/points`, { amount: '0.00000001', idempotency_key: 'past-cap' });
      expectError(refused, 409, 'conflict', 'amount');
      assert.match(refused.body.error.message, /10000000000 points/);
      assert.equal((await h.api('GET', `/api/users/${id}`)).body.user.points, '10000000000', 'the balance is unchanged');
      assert.equal((await h.api('GET', `/api/users/${id}/ledger`)).body.entries.length, entries, 'no ledger row');
      // Nor is the key spent: the same top-up is refused again, not reported as applied.
      expectError(await h.api('POST', `/api/users/${id}/points`, { amount: '0.00000001', idempotency_key: 'past-cap' }), 409, 'conflict', 'amount');
      // Amounts are read from their text: more than 8 decimals round once, half away from zero; out of range is a 400.
      const other = (await h.api('POST', '/api/users', { username: 'exact', points: '0.123456785' })).body.user;
      assert.equal(other.points, '0.12345679');
      expectError(await h.api('POST', `/api/users/${other.id}/points`, { amount: '1e400' }), 400, 'invalid_request', 'amount');
      expectError(await h.api('POST', `/api/users/${other.id}/points`, { amount: '0.000000004' }), 400, 'invalid_request', 'amount');
      expectError(await h.api('POST', `/api/users/${other.id}/points`, { amount: 10_000_000 }), 400, 'invalid_request', 'amount');
    });

    test('heartbeats need the node secret (token or signature), a known node and a matching body', async () => {
      await h.api('POST', '/api/nodes', { node_code: 'hb', base_url: 'http://127.0.0.1:2' });
      const beat = JSON.stringify({ node_code: 'hb', version: '0.1.0', status: 'ok', started_at: new Date().toISOString(), uptime_seconds: 1, in_flight: 0, capacity: 8 });
      const post = (path: string, body: string, headers: Record<string, string>) => call(`${h.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      const path = '/api/nodes/hb/heartbeat';
      assert.equal((await post(path, beat, { 'x-center-token': NODE_SECRET })).status, 200);
      assert.equal((await post(path, beat, authHeaders(NODE_SECRET, 'hmac', { method: 'POST', url: new URL(path, h.url), node: 'hb', body: beat }))).status, 200);
      expectError(await post(path, beat, {}), 401, 'unauthorized');
      expectError(await post(path, beat, { 'x-center-token': 'nope-nope-nope-nope' }), 401, 'unauthorized');
      expectError(await post(path, beat, { authorization: `Bearer ${ADMIN_TOKEN}` }), 401, 'unauthorized');
      expectError(await post('/api/nodes/ghost/heartbeat', beat.replace('"hb"', '"ghost"'), { 'x-center-token': NODE_SECRET }), 404, 'not_found');
      expectError(await post(path, beat.replace('"hb"', '"other"'), { 'x-center-token': NODE_SECRET }), 400, 'invalid_request', 'node_code');
      for (const absurd of [{ capacity: 1e12 }, { in_flight: 2 ** 40 }, { uptime_seconds: 1e300 }, { base_url: `http://x/${'a'.repeat(600)}` }]) {
        const field = Object.keys(absurd)[0] as string;
        expectError(await post(path, JSON.stringify({ ...JSON.parse(beat), ...absurd }), { 'x-center-token': NODE_SECRET }), 400, 'invalid_request', field);
      }
      const node = (await h.api('GET', '/api/nodes/hb')).body.node;
      assert.equal(node.online, true);
      assert.equal(node.capacity, 8);
    });
  });
}
