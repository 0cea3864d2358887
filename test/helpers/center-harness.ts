import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCenterConfig } from '../../src/cli/center-actions.js';
import { createLogger } from '../../src/process/logger.js';
import { startCenter, type RunningCenter } from '../../src/center/server.js';
import { waitForBackground } from '../../src/center/context.js';
import { call, type CallResult } from './node-harness.js';
import { freshDatabase } from './databases.js';

export interface CenterHarness {
  center: RunningCenter;
  url: string;
  logs: string[];
  /** Calls the data API with the admin token (unless `token` is given, '' for none). */
  api(method: string, path: string, body?: unknown, token?: string): Promise<CallResult>;
  /** Waits for every dispatch and reconciliation still running. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

/** A real center on a fresh database of the given dialect, on a random loopback port. */
export async function startCenterHarness(dialect: 'sqlite' | 'mysql', settings: Record<string, unknown> = {}): Promise<CenterHarness> {
  const fresh = await freshDatabase(dialect);
  const dataDir = mkdtempSync(join(tmpdir(), 'tradectl-center-'));
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', stream: { write: (line: string) => logs.push(line) } });
  const db = dialect === 'mysql' ? { db_url: fresh.target.location, master_key: randomBytes(32).toString('hex') } : {};
  const config = loadCenterConfig(
    undefined,
    { center_port: 0, center_host: '127.0.0.1', center_api_token: ADMIN_TOKEN, data_dir: dataDir, reconcile_interval: 3600, log_level: 'debug', ...db, ...settings },
    {},
  );
  const center = await startCenter(config, logger);
  return {
    center,
    url: center.url,
    logs,
    api(method, path, body, token = ADMIN_TOKEN) {
      return call(`${center.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
    },
    idle: () => waitForBackground(center.ctx),
    async close() {
      await center.close();
      await fresh.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
