import { randomBytes } from 'node:crypto';
import { createLogger } from '../../src/process/logger.js';
import { loadNodeConfig } from '../../src/node/commands.js';
import { startNodeServer, type RunningNode } from '../../src/node/server.js';
import { startBinanceSim, type BinanceSim } from '../sim/binance-sim.js';

export interface WireAccount {
  account_id: number | string;
  exchange: string;
  api_key: string;
  api_secret: string;
  [key: string]: unknown;
}

/**
 * A parsed JSON answer. `any` on purpose: tests read the wire format field by
 * field exactly as a center in any language would, and assert each value.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface CallResult {
  status: number;
  body: Json;
  text: string;
  headers: Headers;
}

export interface Harness {
  sim: BinanceSim;
  node: RunningNode;
  url: string;
  /** Every log line the node wrote, raw. */
  logs: string[];
  /** A fresh account registered on the simulator, with random credentials. */
  account(id: number | string, usdt?: number): WireAccount;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<CallResult>;
  close(): Promise<void>;
}

export async function call(url: string, init: RequestInit = {}): Promise<CallResult> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text, headers: response.headers };
}

/**
 * A real execution node (in this process, on a random loopback port) in
 * front of the Binance USD-M simulator, reached through `exchange_urls`.
 */
export async function startHarness(settings: Record<string, unknown> = {}): Promise<Harness> {
  const sim = await startBinanceSim();
  const logs: string[] = [];
  let config;
  try {
    config = loadNodeConfig(undefined, { port: 0, log_level: 'debug', exchange_urls: { binanceusdm: sim.url }, ...settings }, {});
  } catch (error) {
    await sim.close();
    throw error;
  }
  const logger = createLogger({ level: config.log_level, format: 'json', stream: { write: (line: string) => logs.push(line) } });
  let node: RunningNode;
  try {
    node = await startNodeServer(config, logger);
  } catch (error) {
    await sim.close();
    throw error;
  }
  const run = randomBytes(4).toString('hex');
  return {
    sim,
    node,
    url: node.url,
    logs,
    account(id, usdt) {
      const apiKey = `key${id}x${run}${randomBytes(8).toString('hex')}`;
      const secret = `sec${id}x${run}${randomBytes(16).toString('hex')}`;
      sim.addAccount({ apiKey, secret, ...(usdt === undefined ? {} : { usdt }) });
      return { account_id: id, exchange: 'binanceusdm', api_key: apiKey, api_secret: secret };
    },
    post(path, body, headers = {}) {
      return call(`${node.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    async close() {
      await node.close();
      await sim.close();
    },
  };
}

let signalCounter = 0;

/** A unique market-buy signal on BTC/USDT:USDT. */
export function marketSignal(extra: Record<string, unknown> = {}): Record<string, unknown> {
  signalCounter++;
  return { signal_id: `sig-${Date.now()}-${signalCounter}`, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01, ...extra };
}
