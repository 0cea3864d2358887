import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { reconcileOnce } from '../../src/center/dispatch/reconciler.js';
import { createCenterMetrics } from '../../src/center/metrics.js';
import { startWorkerMetrics, type WorkerMetricsListener } from '../../src/center/queue/worker-metrics.js';
import { loadCenterConfig } from '../../src/cli/center-actions.js';
import { createLogger } from '../../src/process/logger.js';
import { loadNodeConfig } from '../../src/node/commands.js';
import { loadCcxt } from '../../src/exchange/ccxt-module.js';
import { sendHeartbeat } from '../../src/node/heartbeat.js';
import { heartbeatOf } from '../../src/node/runtime.js';
import { startNodeServer, type RunningNode } from '../../src/node/server.js';
import { startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { scrape } from '../helpers/metrics.js';
import { freePort } from '../helpers/free-port.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startBinanceSim, type BinanceSim } from '../sim/binance-sim.js';
import { needs } from '../helpers/services.js';

/**
 * The monitoring set-up docs/operations.md gives operators, tried with
 * Prometheus' own tools: the example alert rules run by `promtool` against
 * the scenarios in alert-rules.promtool.yml, whose series are checked
 * against what a live center, queue-mode center, worker and node expose; and
 * a real Prometheus with the page's scrape config and rules, scraping them.
 * A rule that can never fire, one watching a series that does not exist (a
 * rename, a label that is not there), one that errors on real data, or a
 * scrape config that does not get in, fails here.
 */

const ROOT = new URL('../../', import.meta.url);
const FIXTURE = new URL('test/center/alert-rules.promtool.yml', ROOT);
const SECRET = 'alert-rules-node-secret-0123456789';
/** One scrape token for every target, as the documented scrape config reads one file. */
const METRICS_TOKEN = 'alert-rules-metrics-token-0123456789';
const quiet = createLogger({ level: 'silent', format: 'json' });

type Labels = Record<string, string>;
interface Series {
  name: string;
  labels: Labels;
}

/** The ```yaml block of docs/operations.md whose first line is `firstLine`, as written there. */
function docsBlock(firstLine: string): string {
  const page = readFileSync(new URL('docs/operations.md', ROOT), 'utf8');
  const start = page.indexOf(`\`\`\`yaml\n${firstLine}\n`);
  assert.ok(start >= 0, `docs/operations.md has a \`\`\`yaml block starting "${firstLine}"`);
  const body = page.slice(start + '```yaml\n'.length);
  return body.slice(0, body.indexOf('```'));
}

interface ScrapeConfig {
  scrape_configs: Array<{ job_name: string; authorization: { credentials_file: string }; static_configs: unknown }>;
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
    const samples = out.get(series.name);
    if (samples) samples.push(series.labels);
    else out.set(series.name, [series.labels]);
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

describe('the example alert rules in docs/operations.md', needs('promtool'), () => {
  const rules = docsBlock('# tradectl-alerts.yml (Prometheus rule file)');
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

  describe('watch series that live processes expose', needs('redis'), () => {
    let sim: BinanceSim;
    let redis: TestRedis;
    let direct: CenterHarness;
    let queued: CenterHarness;
    let node: RunningNode;
    let worker: WorkerMetricsListener;
    const live = new Map<string, Labels[]>();
    const pages: Array<{ from: string; text: string }> = [];

    before(async () => {
      sim = await startBinanceSim();
      redis = await startRedis();
      direct = await startCenterHarness('sqlite', { node_auth_secret: SECRET, metrics_token: METRICS_TOKEN, exchange_urls: { binanceusdm: sim.url } });
      queued = await startCenterHarness('sqlite', { node_auth_secret: SECRET, metrics_token: METRICS_TOKEN, use_node_execution_queue: true, redis_url: redis.url });
      node = await startNodeServer(loadNodeConfig(undefined, { port: 0, node_code: 'node-sg-1', node_auth_enabled: true, node_auth_secret: SECRET, metrics_token: METRICS_TOKEN, exchange_urls: { binanceusdm: sim.url } }, {}), quiet);
      // A `center worker`'s metrics listener (its jobs are not needed here).
      worker = await startWorkerMetrics({ config: loadCenterConfig(undefined, { data_dir: dir, metrics_token: METRICS_TOKEN }, {}), metrics: createCenterMetrics(), logger: quiet }, 0);
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

      const scraped = {
        center: await scrape(direct.url, METRICS_TOKEN),
        'queue-mode center': await scrape(queued.url, METRICS_TOKEN),
        node: await scrape(node.url, METRICS_TOKEN),
        worker: await scrape(worker.url, METRICS_TOKEN),
      };
      for (const [from, page] of Object.entries(scraped)) {
        assert.equal(page.status, 200, page.text);
        pages.push({ from, text: page.text });
        for (const [name, samples] of exposition(page.text)) live.set(name, [...(live.get(name) ?? []), ...samples]);
      }
    });
    after(async () => {
      await worker?.close();
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

    test('a real Prometheus with the documented scrape config scrapes every target and evaluates every rule without error; none fires', async () => {
      const config = parseYaml(docsBlock('# prometheus.yml')) as ScrapeConfig;
      const tokenFile = join(dir, 'metrics-token');
      writeFileSync(tokenFile, METRICS_TOKEN);
      const host = (url: string) => new URL(url).host;
      const targets: Record<string, string[]> = {
        'tradectl-center': [host(direct.url), host(queued.url)],
        'tradectl-node': [host(node.url)],
        'tradectl-worker': [host(worker.url)],
      };
      assert.deepEqual(config.scrape_configs.map((job) => job.job_name).sort(), Object.keys(targets).sort());
      // Only the addresses and the token file's path change; the rest is the page's.
      for (const job of config.scrape_configs) {
        job.static_configs = [{ targets: targets[job.job_name] }];
        job.authorization.credentials_file = tokenFile;
      }
      const file = join(dir, 'prometheus.yml');
      writeFileSync(file, JSON.stringify({ global: { scrape_interval: '1s', evaluation_interval: '1s' }, rule_files: ['tradectl-alerts.yml'], ...config }));
      const port = await freePort();
      const prometheus: ChildProcess = spawn('prometheus', [`--config.file=${file}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      prometheus.stdout?.on('data', (d) => (log += d));
      prometheus.stderr?.on('data', (d) => (log += d));
      // Not running (not installed, or it refused the config): fail at once, with its log.
      let down: Error | undefined;
      prometheus.once('error', (error) => (down = new Error(`cannot run prometheus (${error.message}): install Debian's prometheus package, as .ci/run does`)));
      const exited = new Promise<void>((resolve) =>
        prometheus.once('close', (code) => {
          down ??= new Error(`prometheus exited (${code}) before the checks ended:\n${log}`);
          resolve();
        }),
      );
      // The `data` of an answer of Prometheus' HTTP API (v1), in the shape the caller reads.
      const api = async <T>(path: string): Promise<T> => ((await (await fetch(`http://127.0.0.1:${port}${path}`)).json()) as { data: T }).data;
      try {
        type Target = { health: string; lastError: string; labels: Labels };
        let scraped: Target[] = [];
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline) {
          if (down) throw down;
          scraped = await api<{ activeTargets: Target[] }>('/api/v1/targets?state=active')
            .then((d) => d.activeTargets)
            .catch(() => []); // not listening yet
          if (scraped.length === 4 && scraped.every((t) => t.health !== 'unknown')) break;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        assert.equal(scraped.length, 4, `targets: ${JSON.stringify(scraped)}\n${log}`);
        for (const t of scraped) assert.equal(t.health, 'up', `${t.labels['job']} ${t.labels['instance']}: ${t.lastError}`);
        // A few evaluations on the scraped data.
        await new Promise((resolve) => setTimeout(resolve, 3000));
        type Rule = { name: string; health: string; lastError?: string; alerts?: Array<{ state: string; labels: Labels }> };
        const rules = (await api<{ groups: Array<{ rules: Rule[] }> }>('/api/v1/rules')).groups.flatMap((g) => g.rules);
        assert.ok(rules.length >= 10, `rules loaded: ${rules.length}\n${log}`);
        for (const rule of rules) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError ?? ''}`);
        const firing = rules.flatMap((r) => (r.alerts ?? []).filter((a) => a.state === 'firing').map((a) => `${r.name} ${JSON.stringify(a.labels)}`));
        assert.deepEqual(firing, [], 'an alert fires on a healthy system');
      } finally {
        prometheus.kill('SIGTERM');
        await exited;
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
