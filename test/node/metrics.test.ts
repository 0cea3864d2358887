import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, test } from 'node:test';
import { authHeaders } from '../../src/core/signing.js';
import { call, marketSignal, startHarness, type Harness } from '../helpers/node-harness.js';
import { seriesValue } from '../helpers/metrics.js';

const SECRET = 'node-metrics-shared-secret-0123456789';
const METRICS_TOKEN = 'metrics-scrape-token-0123456789';
const require = createRequire(import.meta.url);
const promClientLoaded = () => Object.keys(require.cache).some((path) => path.includes('/node_modules/prom-client/'));

const harnesses: Harness[] = [];
async function node(settings: Record<string, unknown>): Promise<Harness> {
  const h = await startHarness({ host: '127.0.0.1', ...settings });
  harnesses.push(h);
  return h;
}
after(() => Promise.all(harnesses.map((h) => h?.close())));

const scrape = (h: Harness, headers: Record<string, string> = {}) => call(`${h.url}/metrics`, { headers });
const value = seriesValue;

// First in this file (its own process): nothing may have loaded prom-client yet.
test('the node listens without prom-client; the first scrape loads it and shows what happened before', async () => {
  assert.equal(promClientLoaded(), false, 'loaded before the node started');
  const h = await node({});
  assert.equal(promClientLoaded(), false, 'prom-client was loaded before the node listened');
  assert.equal(h.node.runtime.metrics.registry.loaded, false);

  const account = h.account(1);
  const executed = await h.post('/api/execute', { signal: marketSignal({ stop_loss: 50000 }), accounts: [account] });
  assert.equal(executed.body.results[0].status, 'filled', executed.text);
  assert.equal((await call(`${h.url}/health`)).status, 200);

  const res = await scrape(h);
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.equal(promClientLoaded(), true);
  const text = res.text;
  assert.equal(value(text, 'tradectl_node_http_requests_total{method="POST",route="/api/execute",status="200"}'), 1);
  assert.equal(value(text, 'tradectl_node_http_requests_total{method="GET",route="/health",status="200"}'), 1);
  assert.equal(value(text, 'tradectl_node_http_request_duration_seconds_count{method="POST",route="/api/execute"}'), 1);
  assert.equal(value(text, 'tradectl_node_accounts_executed_total{status="filled"}'), 1);
  assert.equal(value(text, 'tradectl_node_exchange_call_duration_seconds_count{exchange="binanceusdm",call="place_order",outcome="ok"}'), 1);
  assert.equal(value(text, 'tradectl_node_exchange_call_duration_seconds_count{exchange="binanceusdm",call="place_trigger_order",outcome="ok"}'), 1);
  assert.equal(value(text, 'tradectl_node_market_loads_total{exchange="binanceusdm",outcome="ok"}'), 1);
  assert.equal(value(text, 'tradectl_node_http_requests_in_flight'), 0);
  assert.equal(value(text, 'tradectl_node_accounts_in_flight{state="active"}'), 0);
  assert.equal(value(text, 'tradectl_node_ccxt_instances'), 1);
  assert.ok(value(text, 'process_cpu_user_seconds_total') !== undefined, 'default process metrics');

  // Counters move with the next signal; an unknown path is one series, not one per path.
  await h.post('/api/execute', { signal: marketSignal(), accounts: [account] });
  await call(`${h.url}/no/such/path/1`);
  await call(`${h.url}/no/such/path/2`);
  const again = (await scrape(h)).text;
  assert.equal(value(again, 'tradectl_node_accounts_executed_total{status="filled"}'), 2);
  assert.equal(value(again, 'tradectl_node_http_requests_total{method="GET",route="unmatched",status="404"}'), 2);
  assert.equal(value(again, 'tradectl_node_market_loads_total{exchange="binanceusdm",outcome="ok"}'), 1, 'markets are loaded once');
  assert.ok(!again.includes('/no/such/path'));

  // Nothing secret in any series: credentials, the node secret, the metrics token.
  for (const secret of [account.api_key, account.api_secret]) assert.ok(!again.includes(secret), 'a credential leaked into /metrics');
});

test('a failed exchange call is timed as an error and the failure reaches the result', async () => {
  const h = await node({});
  const broke = h.account(1, 0);
  const res = await h.post('/api/execute', { signal: marketSignal(), accounts: [broke] });
  assert.equal(res.body.results[0].status, 'rejected', res.text);
  assert.equal(res.body.results[0].error.code, 'insufficient_funds', res.text);
  const text = (await scrape(h)).text;
  assert.equal(value(text, 'tradectl_node_exchange_call_duration_seconds_count{exchange="binanceusdm",call="place_order",outcome="error"}'), 1);
  assert.equal(value(text, 'tradectl_node_exchange_call_duration_seconds_count{exchange="binanceusdm",call="place_order",outcome="ok"}'), undefined);
  assert.equal(value(text, 'tradectl_node_accounts_executed_total{status="rejected"}'), 1);
});

test('each account result carries its node-side timings', async () => {
  const h = await node({});
  const res = await h.post('/api/execute', { signal: marketSignal({ stop_loss: 50000, take_profit: 90000 }), accounts: [h.account(1)] });
  const r = res.body.results[0];
  assert.equal(r.status, 'filled', res.text);
  assert.equal(typeof r.timings_ms.queued, 'number');
  assert.equal(typeof r.timings_ms.exchange, 'number');
  assert.ok(r.timings_ms.queued + r.timings_ms.exchange <= r.latency_ms + 1, JSON.stringify(r));
});

test('without metrics_token, /metrics needs what /api/* needs: the center token or a signature', async () => {
  const h = await node({ node_auth_enabled: true, node_auth_secret: SECRET, node_code: 'metrics-node' });
  const refused = await scrape(h);
  assert.equal(refused.status, 401);
  assert.deepEqual(refused.body, { success: false, error: { code: 'unauthorized', message: 'authentication required' } });
  assert.equal((await scrape(h, { 'x-center-token': SECRET })).status, 200);
  assert.equal((await scrape(h, authHeaders(SECRET, 'hmac', { method: 'GET', url: new URL('/metrics', h.url), node: 'metrics-node', body: '' }))).status, 200);
  assert.equal((await scrape(h, { authorization: `Bearer ${SECRET}` })).status, 401, 'a bearer token is not how the node secret is sent');
  assert.equal((await scrape(h, { 'x-center-token': 'wrong-secret-of-the-right-length' })).status, 401);

  const text = (await scrape(h, { 'x-center-token': SECRET })).text;
  assert.ok(!text.includes(SECRET));
});

test('with metrics_token, /metrics needs that Bearer token and nothing else opens it', async () => {
  const h = await node({ node_auth_enabled: true, node_auth_secret: SECRET, metrics_token: METRICS_TOKEN });
  const ok = await scrape(h, { authorization: `Bearer ${METRICS_TOKEN}` });
  assert.equal(ok.status, 200, ok.text);
  assert.ok(!ok.text.includes(METRICS_TOKEN) && !ok.text.includes(SECRET));
  const refusals: Array<Record<string, string>> = [{}, { authorization: `Bearer ${METRICS_TOKEN}x` }, { authorization: METRICS_TOKEN }, { 'x-center-token': SECRET }];
  for (const headers of refusals) {
    const res = await scrape(h, headers);
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.deepEqual(res.body.error, { code: 'unauthorized', message: 'authentication required' });
  }
  // The metrics token opens nothing else.
  assert.equal((await h.post('/api/execute', { signal: marketSignal(), accounts: [h.account(1)] }, { authorization: `Bearer ${METRICS_TOKEN}` })).status, 401);
  assert.ok(!h.logs.join('').includes(METRICS_TOKEN), 'the token reached the log');
});

test('node_allowed_ips applies to /metrics with or without metrics_token', async () => {
  const withToken = await node({ node_auth_enabled: true, node_auth_secret: SECRET, metrics_token: METRICS_TOKEN, node_allowed_ips: '10.1.2.3' });
  const res = await scrape(withToken, { authorization: `Bearer ${METRICS_TOKEN}` });
  assert.equal(res.status, 403);
  assert.deepEqual(res.body, { success: false, error: { code: 'forbidden', message: 'forbidden' } });
  const without = await node({ node_auth_enabled: true, node_auth_secret: SECRET, node_allowed_ips: '10.1.2.3' });
  assert.equal((await scrape(without, { 'x-center-token': SECRET })).status, 403);
  const loopback = await node({ node_auth_enabled: true, node_auth_secret: SECRET, metrics_token: METRICS_TOKEN, node_allowed_ips: '127.0.0.1' });
  assert.equal((await scrape(loopback, { authorization: `Bearer ${METRICS_TOKEN}` })).status, 200);
});

test('an open node (auth off, loopback) serves /metrics openly unless metrics_token is set', async () => {
  assert.equal((await scrape(await node({}))).status, 200);
  const h = await node({ metrics_token: METRICS_TOKEN });
  assert.equal((await scrape(h)).status, 401);
  assert.equal((await scrape(h, { authorization: `Bearer ${METRICS_TOKEN}` })).status, 200);
});
