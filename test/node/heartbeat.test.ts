import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as v from 'valibot';
import { HeartbeatSchema } from '../../src/core/wire-heartbeat.js';
import { sendHeartbeat } from '../../src/node/heartbeat.js';
import { runCli } from '../helpers/cli.js';
import { startFakeCenter } from '../helpers/fake-center.js';
import { startHarness, type Json } from '../helpers/node-harness.js';
import { tempDir } from '../helpers/temp-dir.js';

const SECRET = 'heartbeat-shared-secret-0123456789';

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

test('node serve sends a heartbeat with X-Center-Token at start and shows it in /health', async () => {
  const center = await startFakeCenter(SECRET, ['node-a']);
  const h = await startHarness({ center_url: center.url, node_code: 'node-a', node_auth_enabled: true, node_auth_secret: SECRET, node_auth_mode: 'token', host: '127.0.0.1' });
  try {
    await until(() => center.received.length >= 1);
    const [beat] = center.received;
    assert.equal(beat?.path, '/api/nodes/node-a/heartbeat');
    assert.equal(beat?.auth, 'token');
    const parsed = v.safeParse(HeartbeatSchema, beat?.body);
    assert.ok(parsed.success, JSON.stringify(beat?.body));
    assert.equal(parsed.output.node_code, 'node-a');
    assert.equal(parsed.output.capacity, 64);
    const health = (await fetch(`${h.url}/health`).then((r) => r.json())) as { heartbeat: Record<string, unknown> };
    assert.equal(health.heartbeat['enabled'], true);
    assert.equal(health.heartbeat['center_url'], center.url);
    assert.equal(health.heartbeat['node_code'], 'node-a');
    assert.equal(health.heartbeat['interval'], 60);
    assert.equal(typeof health.heartbeat['last_success_at'], 'string');
  } finally {
    await h.close();
    await center.close();
  }
});

test('in hmac mode the heartbeat is signed and the secret never travels', async () => {
  const center = await startFakeCenter(SECRET, ['node-h']);
  const h = await startHarness({ center_url: `${center.url}/`, node_code: 'node-h', node_auth_enabled: true, node_auth_secret: SECRET, node_auth_mode: 'hmac', host: '127.0.0.1' });
  try {
    await until(() => center.received.length >= 1);
    assert.equal(center.received[0]?.auth, 'hmac');
    assert.equal(center.received[0]?.headers['x-center-token'], undefined);
    assert.ok(!JSON.stringify(center.received[0]?.headers).includes(SECRET));
  } finally {
    await h.close();
    await center.close();
  }
});

test('heartbeat failures back off, show in /health, never stop the node, and recover', async () => {
  const center = await startFakeCenter(undefined, ['node-b']);
  center.forceStatus = 500;
  const h = await startHarness({ center_url: center.url, node_code: 'node-b', heartbeat_interval: 1 });
  try {
    await until(() => center.received.length >= 2, 5000);
    const down = (await fetch(`${h.url}/health`).then((r) => r.json())) as { status: string; heartbeat: Record<string, Json> };
    assert.equal(down.status, 'ok');
    assert.match(down.heartbeat['last_error'], /HTTP 500/);
    assert.ok(down.heartbeat['consecutive_failures'] >= 1);
    center.forceStatus = undefined;
    await until(() => center.received.length >= 4, 5000);
    await sleep(50);
    const up = (await fetch(`${h.url}/health`).then((r) => r.json())) as { heartbeat: Record<string, Json> };
    assert.equal(up.heartbeat['consecutive_failures'], 0);
    assert.equal(typeof up.heartbeat['last_success_at'], 'string');
    assert.ok(h.logs.some((l) => l.includes('heartbeat accepted again')));
  } finally {
    await h.close();
    await center.close();
  }
});

test('`tradectl node heartbeat` says accepted (exit 0) or why not (exit 1)', async () => {
  const center = await startFakeCenter(SECRET, ['node-c']);
  const empty = tempDir('hb');
  try {
    const env = { TRADECTL_CENTER_URL: center.url, NODE_AUTH_SECRET: SECRET };
    const ok = await runCli(['node', 'heartbeat', '--node-code', 'node-c'], env, empty);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /heartbeat accepted by .* for node node-c/);

    const unknown = await runCli(['node', 'heartbeat', '--node-code', 'node-x'], env, empty);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /does not know node_code "node-x" \(HTTP 404\)/);

    const wrong = await runCli(['node', 'heartbeat', '--node-code', 'node-c'], { ...env, NODE_AUTH_SECRET: 'a-wrong-secret-of-enough-length' }, empty);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /refused the heartbeat \(HTTP 401\); check that node_auth_secret/);
    assert.ok(!wrong.stderr.includes('a-wrong-secret'));

    const down = await runCli(['node', 'heartbeat', '--node-code', 'node-c', '--center-url', 'http://127.0.0.1:1'], env, empty);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /could not reach the center at http:\/\/127\.0\.0\.1:1/);

    const unset = await runCli(['node', 'heartbeat'], {}, empty);
    assert.equal(unset.code, 1);
    assert.match(unset.stderr, /needs center_url and node_code/);
  } finally {
    await center.close();
  }
});

test("a heartbeat refused for the center's host name or its clock says which, not to check the secret", async () => {
  const { createServer } = await import('node:http');
  const answers = [
    [403, 'host_not_allowed', /does not answer to the host in center_url .*center_allowed_hosts/],
    [401, 'signature_expired', /refused the heartbeat's timestamp .*clock/],
  ] as const;
  for (const [status, code, expected] of answers) {
    const server = createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ success: false, error: { code, message: 'x' } })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const outcome = await sendHeartbeat({ centerUrl: `http://127.0.0.1:${port}`, nodeCode: 'n', secret: SECRET, mode: 'token', timeoutMs: 5000 }, { node_code: 'n', version: '0', status: 'ok', started_at: new Date().toISOString(), uptime_seconds: 1, in_flight: 0, capacity: 1 });
      assert.equal(outcome.ok, false);
      assert.match(outcome.ok ? '' : outcome.reason, expected);
      assert.doesNotMatch(outcome.ok ? '' : outcome.reason, /check that node_auth_secret/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
});
