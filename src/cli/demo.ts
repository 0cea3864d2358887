import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCenter } from '../center/server.js';
import { createPaperExchange } from '../exchange/paper-exchange.js';
import { sendHeartbeat } from '../node/heartbeat.js';
import { heartbeatOf } from '../node/runtime.js';
import { startNodeServer, type RunningNode } from '../node/server.js';
import { loadCenterConfig } from './center-actions.js';
import { ExitError } from '../process/exit-error.js';
import { createLogger } from '../process/logger.js';
import { loadNodeConfig, onShutdown } from '../node/commands.js';

type Json = Record<string, unknown>;

/**
 * `tradectl demo`: a center on a temporary SQLite file, two execution nodes
 * on loopback, the paper exchange; users with a referral chain, accounts on
 * the center and on each node, one strategy; one signal; the per-account
 * results and the settlement, printed. Everything real but the exchange.
 */
export async function runDemo(flags: { keep?: boolean }): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tradectl-demo-'));
  const secret = randomBytes(24).toString('hex');
  const logger = createLogger({ level: 'error', format: 'pretty', stream: process.stderr });
  const env = {};
  const paper = createPaperExchange();
  const center = await startCenter(
    loadCenterConfig(undefined, { data_dir: dir, center_port: 0, node_auth_secret: secret, node_auth_mode: 'hmac', reconcile_interval: 3600 }, env),
    logger,
    { paper },
  );
  const nodes: RunningNode[] = [];
  try {
    for (const code of ['demo-node-1', 'demo-node-2']) {
      const config = loadNodeConfig(undefined, { port: 0, node_code: code, node_auth_enabled: true, node_auth_secret: secret, node_auth_mode: 'hmac' }, env);
      nodes.push(await startNodeServer(config, logger, { paper }));
    }
    const api = async (method: string, path: string, body?: unknown): Promise<Json> => {
      const res = await fetch(`${center.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const json = (await res.json()) as Json;
      if (!res.ok) throw new ExitError(`demo: ${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
      return json;
    };
    const say = (line = '') => process.stdout.write(`${line}\n`);

    say(`center  ${center.url}  (SQLite in ${dir})`);
    for (const [i, node] of nodes.entries()) {
      const code = `demo-node-${i + 1}`;
      await api('POST', '/api/nodes', { node_code: code, name: `Demo node ${i + 1}`, base_url: node.url });
      const beat = await sendHeartbeat({ centerUrl: center.url, nodeCode: code, secret, mode: 'hmac', timeoutMs: 5000 }, heartbeatOf(node.runtime, code));
      if (!beat.ok) throw new ExitError(`demo: heartbeat of ${code} was not accepted: ${beat.reason}`);
      say(`node    ${node.url}  ${code}, heartbeat accepted`);
    }

    const user = async (username: string, inviter?: number) => ((await api('POST', '/api/users', { username, points: 100, ...(inviter ? { inviter_id: inviter } : {}) })).user as Json)['id'] as number;
    const alice = await user('alice');
    const bob = await user('bob', alice);
    const carol = await user('carol', bob);
    const account = async (userId: number, node: string | null, label: string) =>
      ((await api('POST', '/api/accounts', { user_id: userId, exchange: 'paper', api_key: `${label}-key-${randomBytes(4).toString('hex')}`, api_secret: randomBytes(16).toString('hex'), label, node_code: node })).account as Json)['id'] as number;
    const accounts = [await account(alice, null, 'alice-main'), await account(bob, 'demo-node-1', 'bob-main'), await account(carol, 'demo-node-2', 'carol-main')];
    await api('POST', '/api/strategies', { strategy_code: 'demo-trend', name: 'Demo trend follower' });
    for (const [i, id] of accounts.entries()) await api('POST', '/api/strategies/demo-trend/bindings', { account_id: id, multiplier: i === 2 ? 2 : 1 });
    say('users   alice ← bob ← carol (invited by), 100 points each; accounts on the center, demo-node-1 and demo-node-2');
    say();

    const signal = { strategy_code: 'demo-trend', signal_id: `demo-${Date.now()}`, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01, stop_loss: 58000, take_profit: 63000 };
    say(`signal  ${signal.signal_id}: buy 0.01 BTC/USDT:USDT, stop-loss 58000, take-profit 63000`);
    const result = (await api('POST', '/api/signals?wait=true', signal)).signal as Json;
    const orders = result['orders'] as Json[];
    const rows = orders.map((o) => ({
      account: o['account_id'],
      executed_on: o['node_code'] ?? 'center',
      status: o['status'],
      filled: o['filled_quantity'],
      price: o['filled_price'],
      stop_loss: o['stop_loss_order_id'],
      take_profit: o['take_profit_order_id'],
      'ms to result': (o['latency_ms'] as Json)['accepted_to_result'],
    }));
    console.table(rows);

    const users = ((await api('GET', '/api/users')).users as Json[]).map((u) => ({ user: u['username'], points: u['points'], referral_rewards: u['rewards'] }));
    say('settlement (fee 0.1% of notional from the point card; 20% / 10% to the inviters; the rest to the pool)');
    console.table(users);
    const settlement = await api('GET', '/api/settlement');
    say(`profit pool: ${String(settlement['profit_pool'])} points`);
    const filled = orders.filter((o) => o['status'] === 'filled').length;
    say(`${filled} of ${orders.length} orders filled`);
    if (filled !== orders.length) throw new ExitError('demo: not every order filled');
    if (flags.keep) {
      say(`\nstill running: try curl ${center.url}/api/nodes  (Ctrl-C stops)`);
      await onShutdown(async () => undefined);
    }
  } finally {
    for (const node of nodes) await node.close();
    await center.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
