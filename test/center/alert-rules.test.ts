import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { reconcileOnce } from '../../src/center/dispatch/reconciler.js';
import { createLogger } from '../../src/cli/logger.js';
import { loadNodeConfig } from '../../src/cli/node-commands.js';
import { loadCcxt } from '../../src/exchange/ccxt-module.js';
import { sendHeartbeat } from '../../src/node/heartbeat.js';
import { heartbeatOf } from '../../src/node/runtime.js';
import { startNodeServer, type RunningNode } from '../../src/node/server.js';
import { ADMIN_TOKEN, startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { scrape } from '../helpers/metrics.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startBinanceSim, type BinanceSim } from '../sim/binance-sim.js';

/**
 * The example alert rules of docs/operations.md, run by Prometheus' own
 * `promtool` against the scenarios in alert-rules.promtool.yml, whose
 * series are checked against what a live center, queue-mode center and node
 * expose. A rule that can never fire, or one watching a series that does not
 * exist (a rename, a label that is not there), fails here.
 */

const ROOT = new URL('../../', import.meta.url);
const FIXTURE = new URL('test/center/alert-rules.promtool.yml', ROOT);
const SECRET = 'alert-rules-node-secret-0123456789';
const NODE_METRICS_TOKEN = 'alert-rules-metrics-token-0123456789';
const quiet = createLogger({ level: 'silent', format: 'json' });

type Labels = Record<string, string>;
interface Series {
  name: string;
  labels: Labels;
}

/** The rule file the operations page shows, as written there. */
function rulesFromDocs(): string {
  const page = readFileSync(new URL('docs/operations.md', ROOT), 'utf8');
  const block = /```yaml\n# tradectl-alerts\.yml[^\n]*\n([\s\S]*?)```/.exec(page);
  assert.ok(block, 'docs/operations.md has a ```yaml block starting "# tradectl-alerts.yml"');
  return block[1] as string;
}

/** `name{a="x",b="y"}` (a promtool input series or an exposition line's series part). */
function parseSeries(text: string): Series {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$/.exec(text.trim());
  assert.ok(match, `not a series: ${text}`);
  const labels: Labels = {};
  for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key as string] = (value as string).replace(/\\(.)/g, '$1');
  return { name: match[1] as string, labels };
}

/** Every sample of a Prometheus text page, by series name. */
function exposition(text: string): Map<string, Labels[]> {
  const out = new Map<string, Labels[]>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const series = parseSeries(line.slice(0, line.lastIndexOf(' ')));
    out.set(series.name, [...(out.get(series.name) ?? []), series.labels]);
  }
  return out;
}

function promtool(args: string[], cwd: string, input?: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd, input, encoding: 'utf8', timeout: 60_000 });
  if (run.error) assert.fail(`cannot run promtool (${run.error.message}): install Debian's prometheus package, as .ci/run does`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

interface PromtoolTests {
  tests: Array<{
    name: string;
    input_series: Array<{ series: string; values: string }>;
    alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }>;
  }>;
}

/**
 * Label values a healthy live system does not show, because only a failure
 * makes them: the scenarios may use these without a live sample.
 */
const FAILURE_VALUES: Record<string, Record<string, (value: string) => boolean>> = {
  tradectl_center_http_requests_total: { status: (v) => /^5\d\d$/.test(v) },
  tradectl_node_http_requests_total: { status: (v) => /^5\d\d$/.test(v) },
  tradectl_center_node_request_duration_seconds_count: { outcome: (v) => ['unreachable', 'refused', 'ambiguous'].includes(v) },
  tradectl_node_accounts_executed_total: { status: (v) => ['rejected', 'failed', 'unknown'].includes(v) },
};
/** Labels Prometheus adds, or that come from the bucket layout. */
const NOT_OURS = new Set(['job', 'instance', 'le']);

describe('the example alert rules in docs/operations.md', () => {
  const rules = rulesFromDocs();
  const scenarios = parseYaml(readFileSync(FIXTURE, 'utf8')) as PromtoolTests;
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tradectl-alerts-'));
    writeFileSync(join(dir, 'tradectl-alerts.yml'), rules);
    copyFileSync(FIXTURE, join(dir, 'alert-rules.promtool.yml'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('are a valid Prometheus rule file', () => {
    const checked = promtool(['check', 'rules', 'tradectl-alerts.yml'], dir);
    assert.equal(checked.status, 0, checked.output);
  });

  test('fire in each scenario they are for, with their summaries, and stay quiet when all is healthy', () => {
    const tested = promtool(['test', 'rules', 'alert-rules.promtool.yml'], dir);
    assert.equal(tested.status, 0, tested.output);
  });

  test('every alert has a scenario where it fires and one where it must not', () => {
    const alerts = [...rules.matchAll(/^\s*- alert: (\w+)/gm)].map((m) => m[1] as string);
    assert.ok(alerts.length >= 10, `found ${alerts.length} alerts`);
    const cases = scenarios.tests.flatMap((t) => t.alert_rule_test);
    for (const alert of alerts) {
      assert.ok(cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0), `no scenario where ${alert} fires`);
      assert.ok(cases.some((c) => c.alertname === alert && c.exp_alerts.length === 0), `no scenario where ${alert} stays quiet`);
    }
  });

  describe('watch series that live processes expose', () => {
    let sim: BinanceSim;
    let redis: TestRedis;
    let direct: CenterHarness;
    let queued: CenterHarness;
    let node: RunningNode;
    const live = new Map<string, Labels[]>();
    const pages: Array<{ from: string; text: string }> = [];

    before(async () => {
      sim = await startBinanceSim();
      redis = await startRedis();
      direct = await startCenterHarness('sqlite', { node_auth_secret: SECRET, exchange_urls: { binanceusdm: sim.url } });
      queued = await startCenterHarness('sqlite', { node_auth_secret: SECRET, use_node_execution_queue: true, redis_url: redis.url });
      node = await startNodeServer(loadNodeConfig(undefined, { port: 0, node_code: 'node-sg-1', node_auth_enabled: true, node_auth_secret: SECRET, metrics_token: NODE_METRICS_TOKEN, exchange_urls: { binanceusdm: sim.url } }, {}), quiet);
      await loadCcxt();

      // One signal through the node, then a reconciliation pass: what a
      // healthy center shows after its first minutes.
      await direct.api('POST', '/api/nodes', { node_code: 'node-sg-1', base_url: node.url });
      assert.ok((await sendHeartbeat({ centerUrl: direct.url, nodeCode: 'node-sg-1', secret: SECRET, mode: 'token', timeoutMs: 5000 }, heartbeatOf(node.runtime, 'node-sg-1'))).ok);
      const user = (await direct.api('POST', '/api/users', { username: 'alerts' })).body.user.id;
      await direct.api('POST', '/api/strategies', { strategy_code: 'al' });
      const creds = { api_key: `al-key-${Date.now()}`, api_secret: `al-secret-${Date.now()}` };
      sim.addAccount({ apiKey: creds.api_key, secret: creds.api_secret });
      const account = (await direct.api('POST', '/api/accounts', { user_id: user, exchange: 'binanceusdm', ...creds, node_code: 'node-sg-1' })).body.account;
      await direct.api('POST', '/api/strategies/al/bindings', { account_id: account.id });
      const signal = await direct.api('POST', '/api/signals?wait=true', { strategy_code: 'al', signal_id: 'al-1', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01, stop_loss: 50000 });
      assert.equal(signal.status, 201, signal.text);
      await reconcileOnce(direct.center.ctx);

      const scraped = { center: await scrape(direct.url, ADMIN_TOKEN), 'queue-mode center': await scrape(queued.url, ADMIN_TOKEN), node: await scrape(node.url, NODE_METRICS_TOKEN) };
      for (const [from, page] of Object.entries(scraped)) {
        assert.equal(page.status, 200, page.text);
        pages.push({ from, text: page.text });
        for (const [name, samples] of exposition(page.text)) live.set(name, [...(live.get(name) ?? []), ...samples]);
      }
    });
    after(async () => {
      await node?.close();
      await queued?.close();
      await direct?.close();
      await redis?.stop();
      await sim?.close();
    });

    test("Prometheus parses each page, and its linter finds nothing in tradectl's metrics", () => {
      for (const { from, text } of pages) {
        const checked = promtool(['check', 'metrics'], dir, text);
        // prom-client's default process metrics name three gauges *_total; they are not ours to rename.
        const ours = checked.output.split('\n').filter((line) => line.trim() !== '' && !/^nodejs_active_\w+_total non-counter/.test(line));
        assert.deepEqual(ours, [], `${from} /metrics:\n${checked.output}`);
        assert.ok(checked.status === 0 || checked.status === 3, `${from}: promtool check metrics exited ${checked.status} (3 is lint findings only):\n${checked.output}`);
      }
    });

    test('every metric a rule reads is on a live page', () => {
      const names = new Set([...rules.matchAll(/\btradectl_[a-z0-9_]+/g)].map((m) => m[0]));
      for (const name of names) assert.ok(live.has(name), `${name} (read by a rule) is on no live /metrics page`);
    });

    test("every scenario series has a live series' name, labels and label values", () => {
      for (const scenario of scenarios.tests) {
        for (const input of scenario.input_series) {
          const { name, labels } = parseSeries(input.series);
          if (name === 'up') continue; // Prometheus' own, per scrape target
          const samples = live.get(name);
          assert.ok(samples, `scenario "${scenario.name}": ${name} is on no live /metrics page`);
          for (const [label, value] of Object.entries(labels)) {
            if (NOT_OURS.has(label)) continue;
            const seen = new Set(samples.map((s) => s[label]).filter((v): v is string => v !== undefined));
            assert.ok(seen.size > 0, `scenario "${scenario.name}": ${name} has no label "${label}" (live: ${JSON.stringify(samples[0])})`);
            const failureOnly = FAILURE_VALUES[name]?.[label]?.(value) === true;
            assert.ok(seen.has(value) || failureOnly, `scenario "${scenario.name}": ${name}{${label}="${value}"} is not a value it shows (live: ${[...seen].join(', ')})`);
          }
        }
      }
    });
  });
});
