import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Hono } from 'hono';
import { createCenterApp } from '../../src/center/api/app.js';
import { VERSION } from '../../src/core/version.js';
import { loadCcxt } from '../../src/exchange/ccxt-module.js';
import { createNodeApp } from '../../src/node/app.js';
import { createIpAllowlist } from '../../src/http/ip-allowlist.js';
import { createReplayGuard } from '../../src/http/replay-guard.js';
import { ADMIN_TOKEN, startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { DIALECTS, onDialect } from '../helpers/databases.js';
import { startHarness, type Harness } from '../helpers/node-harness.js';
import { HOSTILE, mutate, pick, random, RAW_BODIES, type Rng } from './generate.js';

/**
 * A bounded fuzzer over every route of both servers (issue #15): valid
 * requests with fields changed, removed, duplicated or added; bodies that are
 * not JSON objects; wrong content types; made-up credentials. Whatever comes
 * in, the answer is never a 5xx, never late, never a stack trace and never
 * holds a secret. The routes come from the apps themselves, so a new route is
 * fuzzed from the day it exists (and a new body route without a template
 * below fails the run until it has one).
 *
 * FUZZ_SEED replays a run; FUZZ_ROUNDS sets the requests per route.
 */
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261201);
const ROUNDS = Number(process.env['FUZZ_ROUNDS'] ?? 40);
/** An answer later than this is a hang. */
const ANSWER_WITHIN_MS = 15_000;
const NODE_SECRET = 'fuzz-node-secret-0123456789abcdef';
const run = randomBytes(4).toString('hex');
/** Every credential a fuzzed request carries: none may come back in any answer or log line. */
const secrets = new Set<string>([NODE_SECRET, ADMIN_TOKEN]);
const secret = (kind: string) => {
  const value = `FzSecret${kind}${run}${randomBytes(6).toString('hex')}`;
  secrets.add(value);
  return value;
};

const STACK = /\bat [\w.<>$]+ \(|node_modules|\.[cm]?[jt]s:\d+:\d+|\bError: .*\n\s+at /;

interface Route {
  method: string;
  path: string;
}

/** The app's concrete routes (not middleware), from Hono's own table. */
function routesOf(app: Hono<never>): Route[] {
  const seen = new Set<string>();
  const out: Route[] = [];
  for (const r of app.routes) {
    if (r.method === 'ALL' || r.path.includes('*')) continue;
    const key = `${r.method} ${r.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ method: r.method, path: r.path });
  }
  return out;
}

const PARAM_VALUES: Record<string, readonly string[]> = {
  id: ['1', '2', '3', '0', '-1', 'abc', '1e99', '99999999999999999999', '1.5', '%00', '%C3%A9', '%E0%A4%A', '%'],
  account_id: ['1', '2', '0', 'x', '18446744073709551616'],
  code: ['fz', 'fz-node', 'FZ', 'nope', '%C3%A9', '%2F', 'a'.repeat(300), '..', 'fz%20s', '%E0%A4%A', '%', '%ZZ'],
};

function fill(rng: Rng, path: string): string {
  return path.replace(/:(\w+)/g, (_, name: string) => pick(rng, PARAM_VALUES[name] ?? ['x']));
}

interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

async function send(base: string, method: string, path: string, headers: Record<string, string>, body: string | undefined): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(ANSWER_WITHIN_MS), redirect: 'manual' });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

function check(answer: Answer, what: string): void {
  assert.ok(answer.status < 500, `${what} answered ${answer.status}: ${answer.text.slice(0, 500)}`);
  assert.doesNotMatch(answer.text, STACK, `${what}: a stack trace in the answer`);
  const all = answer.text + JSON.stringify([...answer.headers]);
  for (const s of secrets) assert.ok(!all.includes(s), `${what}: a secret in the answer`);
  if (answer.text !== '' && (answer.headers.get('content-type') ?? '').includes('json')) {
    const body = JSON.parse(answer.text) as { success?: unknown; error?: { code?: unknown } };
    if (answer.status >= 400) assert.equal(typeof body.error?.code, 'string', `${what}: an error without a code: ${answer.text.slice(0, 300)}`);
  }
}

/** How one request is made: a mutated template, a raw body, or a valid body with hostile headers. */
async function fuzzRoute(rng: Rng, base: string, route: Route, template: ((rng: Rng) => unknown) | undefined, auth: Record<string, string>, log: string[]): Promise<void> {
  for (let i = 0; i < ROUNDS; i++) {
    const path = fill(rng, route.path) + (rng() < 0.1 ? pick(rng, ['?wait=true', '?limit=-5', '?limit=1e9', '?node_code=%00', '?x[]=1']) : '');
    const roll = rng();
    let headers: Record<string, string> = { ...auth };
    let body: string | undefined;
    if (template && roll < 0.65) body = JSON.stringify(mutate(rng, template(rng)) ?? null);
    else if (template && roll < 0.75) body = pick(rng, RAW_BODIES);
    else if (template && roll < 0.92) body = JSON.stringify(template(rng));
    else if (!template && route.method !== 'GET' && roll < 0.5) body = JSON.stringify(pick(rng, HOSTILE) ?? null);
    if (body !== undefined) headers['content-type'] = rng() < 0.9 ? pick(rng, ['application/json', 'application/json; charset=utf-8', 'Application/JSON']) : pick(rng, ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']);
    if (rng() < 0.15) {
      // Credentials a stranger might try.
      headers = { ...headers, ...pick<Record<string, string>>(rng, [{}, { authorization: 'Bearer nope' }, { 'x-center-token': 'nope-nope-nope-nope' }, { 'x-center-timestamp': String(Date.now()), 'x-center-signature': 'f'.repeat(64) }, { 'x-center-timestamp': '9'.repeat(16), 'x-center-signature': 'zz' }]) };
      if ('authorization' in auth && rng() < 0.5) delete headers['authorization'];
      if ('x-center-token' in auth && rng() < 0.5) delete headers['x-center-token'];
    }
    if (rng() < 0.05) headers['origin'] = pick(rng, ['null', 'http://127.0.0.1:1', base]);
    if (rng() < 0.1) headers['x-request-id'] = pick(rng, ['r'.repeat(128), 'r'.repeat(129), 'bad id with spaces', 'é', `${run}-${i}`]);
    const what = `${route.method} ${path} (seed ${SEED}, round ${i}, body ${(body ?? '').slice(0, 200)})`;
    const method = route.method;
    let answer: Answer;
    try {
      answer = await send(base, method, path, headers, body);
    } catch (error) {
      assert.fail(`${what}: no answer within ${ANSWER_WITHIN_MS} ms (${(error as Error).message})`);
    }
    check(answer, what);
    log.push(`${answer.status} ${route.method} ${route.path}`);
    if (process.env['FUZZ_VERBOSE']) console.log(`${answer.status} ${method} ${path} ${answer.text.slice(0, 160)}`);
  }
}

function account(rng: Rng, sim: Harness['sim'] | undefined, id: number): Record<string, unknown> {
  const api_key = secret('Key');
  const api_secret = secret('Sec');
  sim?.addAccount({ apiKey: api_key, secret: api_secret });
  return { account_id: pick(rng, [id, String(id)]), exchange: pick(rng, ['binanceusdm', 'binanceusdm', 'paper', 'nosuchexchange']), api_key, api_secret, passphrase: pick(rng, [null, secret('Pass')]), sandbox: false };
}

const signal = (rng: Rng) => ({
  signal_id: `fz-${run}-${Math.floor(rng() * 1e9)}`,
  symbol: pick(rng, ['BTC/USDT:USDT', 'ETH/USDT:USDT', 'NOPE/USDT:USDT']),
  side: pick(rng, ['buy', 'sell']),
  quantity: pick(rng, [0.001, '0.002', 0.01]),
  order_type: pick(rng, ['market', 'limit']),
  price: 60000,
  stop_loss: null,
  take_profit: null,
  leverage: pick(rng, [null, 5]),
  reduce_only: false,
});

describe('fuzzing every node route', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ node_auth_enabled: true, node_auth_secret: NODE_SECRET, host: '127.0.0.1', node_code: 'fz-node', max_accounts_per_request: 20, account_timeout: 5, exchange_timeout: 3 });
    await loadCcxt();
  });
  after(() => h?.close());

  test('no 5xx, no hang, no stack trace, no secret, whatever the request', { timeout: 600_000 }, async () => {
    const rng = random(SEED);
    const templates: Record<string, (rng: Rng) => unknown> = {
      'POST /api/execute': (r) => ({ request_id: `fz-${run}`, attempt: pick(r, [1, 2]), signal: signal(r), accounts: [account(r, h.sim, 1), account(r, h.sim, 2)] }),
      'POST /api/query-orders': (r) => ({ accounts: [{ ...account(r, h.sim, 1), orders: [{ client_order_id: 'tcfuzz1', symbol: 'BTC/USDT:USDT', kind: pick(r, ['entry', 'stop_loss', 'take_profit']) }] }] }),
      'POST /api/sync-balance': (r) => ({ accounts: [account(r, h.sim, 1)] }),
      'POST /api/sync-positions': (r) => ({ symbols: ['BTC/USDT:USDT'], accounts: [account(r, h.sim, 1)] }),
    };
    templates['POST /api/execute-batch'] = templates['POST /api/execute'] as (rng: Rng) => unknown;
    const app = createNodeApp({ runtime: h.node.runtime, allowlist: createIpAllowlist([]), replay: createReplayGuard(), heartbeat: () => ({ enabled: false, center_url: null, node_code: null, interval: 60, last_success_at: null, last_error: null, last_error_at: null, consecutive_failures: 0 }) });
    const routes = routesOf(app as unknown as Hono<never>);
    assert.ok(routes.length >= 7, JSON.stringify(routes));
    const log: string[] = [];
    for (const route of routes) {
      const template = templates[`${route.method} ${route.path}`];
      if (route.method !== 'GET') assert.ok(template, `${route.method} ${route.path} has no fuzz template: add one`);
      await fuzzRoute(rng, h.url, route, template, { 'x-center-token': NODE_SECRET }, log);
    }
    for (const s of secrets) assert.ok(!h.logs.some((line) => line.includes(s)), 'a secret in the node log');
    assert.ok(log.some((l) => l.startsWith('200 POST /api/execute')), 'some requests were valid enough to execute');
  });
});

for (const dialect of DIALECTS) {
  describe(`fuzzing every center route on ${dialect}`, onDialect(dialect), () => {
    let h: CenterHarness;
    let node: Harness;
    before(async () => {
      node = await startHarness({ node_auth_enabled: true, node_auth_secret: NODE_SECRET, host: '127.0.0.1', node_code: 'fz-node' });
      h = await startCenterHarness(dialect, { node_auth_secret: NODE_SECRET, node_request_timeout: 2, reconcile_after: 3, exchange_urls: { binanceusdm: node.sim.url } });
      await loadCcxt();
      // Something to find: a node, users, accounts on the center and on the node, a strategy bound to them.
      await h.api('POST', '/api/nodes', { node_code: 'fz-node', base_url: node.url });
      const beat = JSON.stringify({ node_code: 'fz-node', version: VERSION, status: 'ok', started_at: new Date().toISOString(), uptime_seconds: 1, in_flight: 0, capacity: 8 });
      assert.equal((await send(h.url, 'POST', '/api/nodes/fz-node/heartbeat', { 'content-type': 'application/json', 'x-center-token': NODE_SECRET }, beat)).status, 200);
      const owner = (await h.api('POST', '/api/users', { username: 'fz', points: 100 })).body.user.id;
      for (const place of [null, 'fz-node']) {
        const api_key = secret('Key');
        const api_secret = secret('Sec');
        node.sim.addAccount({ apiKey: api_key, secret: api_secret });
        const acct = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'binanceusdm', api_key, api_secret, node_code: place })).body.account;
        await h.api('POST', '/api/strategies', { strategy_code: 'fz' });
        await h.api('POST', '/api/strategies/fz/bindings', { account_id: acct.id });
      }
    });
    after(async () => {
      await h.idle();
      await h?.close();
      await node?.close();
    });

    test('no 5xx, no hang, no stack trace, no secret, whatever the request', { timeout: 600_000 }, async () => {
      const rng = random(SEED + (dialect === 'mysql' ? 1 : 0));
      const heartbeat = (r: Rng) => ({ node_code: 'fz-node', version: pick(r, [VERSION, 'x']), status: pick(r, ['ok', 'draining']), started_at: new Date().toISOString(), uptime_seconds: 3, in_flight: 0, capacity: 8, base_url: node.url });
      const templates: Record<string, (rng: Rng) => unknown> = {
        'POST /api/nodes': (r) => ({ node_code: pick(r, ['fz-a', 'fz-b', 'FZ-A']), name: 'fuzzed', base_url: pick(r, ['http://127.0.0.1:1', node.url]), status: pick(r, [0, 1]) }),
        'PATCH /api/nodes/:code': (r) => ({ name: 'renamed', base_url: pick(r, ['http://127.0.0.1:1', node.url]), status: 1 }),
        'POST /api/nodes/:code/heartbeat': heartbeat,
        'POST /api/accounts': (r) => ({ user_id: 1, exchange: pick(r, ['binanceusdm', 'paper', 'nosuchexchange']), api_key: secret('Key'), api_secret: secret('Sec'), passphrase: pick(r, [null, secret('Pass')]), sandbox: false, label: 'fz', node_code: pick(r, [null, 'fz-node', 'nope']) }),
        'PATCH /api/accounts/:id': (r) => ({ enabled: pick(r, [true, false]), label: 'fz' }),
        'PUT /api/accounts/:id/node': (r) => ({ node_code: pick(r, [null, 'fz-node', 'nope']) }),
        'POST /api/users': (r) => ({ username: `fz${Math.floor(r() * 1e6)}`, inviter_id: pick(r, [null, 1]), points: pick(r, [0, 5, '9999999.99']) }),
        'POST /api/users/:id/points': (r) => ({ amount: pick(r, [1, '0.5', '9999999.99']), idempotency_key: pick(r, ['k1', 'K1', `k${Math.floor(r() * 1e6)}`]) }),
        'POST /api/strategies': (r) => ({ strategy_code: pick(r, ['fz2', 'FZ2', 'fz']), name: 'x', enabled: true }),
        'PATCH /api/strategies/:code': (r) => ({ name: 'y', enabled: pick(r, [true, false]) }),
        'POST /api/strategies/:code/bindings': (r) => ({ account_id: pick(r, [1, 2, 3]), multiplier: pick(r, [1, 0.5, 1000]), enabled: true }),
        'POST /api/signals': (r) => ({ strategy_code: 'fz', ...signal(r) }),
        'POST /api/sync/balance': (r) => ({ account_ids: pick(r, [[1], [1, 2], []]), node_code: pick(r, [undefined, 'fz-node']) }),
        'POST /api/sync/positions': (r) => ({ account_ids: [1, 2] }),
      };
      // Reads and creations first, then changes and deletions: a strategy the
      // fuzzer disables late does not leave every signal before it refused.
      const late = (r: Route) => (['PATCH', 'PUT', 'DELETE'].includes(r.method) ? 1 : 0);
      const routes = routesOf(createCenterApp(h.center.ctx) as unknown as Hono<never>).sort((a, b) => late(a) - late(b));
      assert.ok(routes.length >= 25, JSON.stringify(routes));
      const log: string[] = [];
      for (const route of routes) {
        const key = `${route.method} ${route.path}`;
        const template = templates[key];
        if (route.method !== 'GET' && route.method !== 'DELETE') assert.ok(template, `${key} has no fuzz template: add one`);
        const auth: Record<string, string> = key.endsWith('/heartbeat') ? { 'x-center-token': NODE_SECRET } : { authorization: `Bearer ${ADMIN_TOKEN}` };
        await fuzzRoute(rng, h.url, route, template, auth, log);
      }
      await h.idle();
      for (const s of secrets) {
        assert.ok(!h.logs.some((line) => line.includes(s)), 'a secret in the center log');
        assert.ok(!node.logs.some((line) => line.includes(s)), 'a secret in the node log');
      }
      assert.ok(log.some((l) => /^20[12] POST \/api\/signals$/.test(l)), 'some signals were valid enough to be accepted');
      // The center still works after all of it.
      await h.api('PATCH', '/api/strategies/fz', { enabled: true });
      const after = await h.api('POST', '/api/signals?wait=true', { strategy_code: 'fz', signal_id: `after-${run}`, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.001 });
      assert.equal(after.status, 201, after.text);
      assert.equal((await h.api('GET', '/health')).status, 200);
    });
  });
}
