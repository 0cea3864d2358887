import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCli } from '../helpers/cli.js';
import { marketSignal, startHarness } from '../helpers/node-harness.js';
import { startBinanceSim } from '../sim/binance-sim.js';
import { tempDir } from '../helpers/temp-dir.js';
import { needs } from '../helpers/services.js';

test('SIGTERM lets in-flight requests finish, refuses new ones, exits 0 and leaves no files', async () => {
  const sim = await startBinanceSim();
  const empty = tempDir('node');
  const home = tempDir('home');
  sim.addAccount({ apiKey: 'sigterm-key', secret: 'sigterm-secret' });
  const { child, match, output } = await startCli(
    ['node', 'serve', '--port', '0', '--log-format', 'json'],
    { HOME: home, TRADECTL_EXCHANGE_URLS: `binanceusdm=${sim.url}`, TRADECTL_SHUTDOWN_GRACE: '10' },
    /"url":"(http:\/\/127\.0\.0\.1:\d+)"/,
    empty,
  );
  const url = match[1] as string;
  try {
    sim.setLatency(800);
    const inFlight = fetch(`${url}/api/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ signal: marketSignal(), accounts: [{ account_id: 1, exchange: 'binanceusdm', api_key: 'sigterm-key', api_secret: 'sigterm-secret' }] }),
    });
    await sleep(300);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const res = await inFlight;
    assert.equal(res.status, 200);
    const body = (await res.json()) as { results: Array<{ status: string }> };
    assert.equal(body.results[0]?.status, 'filled');
    await sleep(100);
    await assert.rejects(fetch(`${url}/health`), 'a stopping node accepts no new connection');
    assert.equal(await exited, 0, output());
    assert.match(output(), /execution node stopped/);
    assert.deepEqual(readdirSync(empty), [], 'nothing written to the working directory');
    assert.deepEqual(readdirSync(home), [], 'nothing written to HOME');
  } finally {
    child.kill('SIGKILL');
    await sim.close();
  }
});

test('with tls_cert and tls_key the node serves HTTPS', needs('openssl'), async () => {
  const dir = tempDir('tls');
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore', timeout: 30_000 });
  const h = await startHarness({ tls_cert: cert, tls_key: key });
  try {
    assert.match(h.url, /^https:\/\//);
    const { readFileSync } = await import('node:fs');
    const body = await new Promise<string>((resolve, reject) => {
      httpsGet(`${h.url}/health`, { ca: readFileSync(cert) }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    assert.equal(JSON.parse(body).status, 'ok');
  } finally {
    await h.close();
  }
});

test('a port already in use is a clear startup error', async () => {
  const first = await startHarness();
  try {
    await assert.rejects(startHarness({ port: first.node.port }), /port \d+ on 127\.0\.0\.1 is already in use/);
  } finally {
    await first.close();
  }
});
