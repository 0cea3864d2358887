import { parseArgs } from 'node:util';
import { startBinanceSim } from './binance-sim.js';
import { startBinanceSpotSim } from './binance-spot-sim.js';
import { startBitgetSim } from './bitget-sim.js';
import { startBybitSim } from './bybit-sim.js';
import type { ExchangeSimOptions, SimAccountSpec } from './exchange-sim.js';
import { startOkxSim } from './okx-sim.js';

/**
 * A simulator as its own process, for benchmarks, the chaos run and manual runs:
 *   node --import tsx test/sim/main.ts [--exchange ID] [--port N] [--latency MS] [--accounts N] [--usdt AMOUNT]
 * ID is binanceusdm (default), okx, bybit, bitget or binance (spot). It
 * registers key-1…key-N with secrets secret-1…secret-N (and passphrases
 * pass-1…pass-N where the exchange signs with one), wallet --usdt (default
 * 1,000,000 so load runs are not stopped by margin), and prints
 * {"url":"http://127.0.0.1:PORT"} once listening. Control it over /__sim/.
 */
const { values } = parseArgs({
  options: {
    exchange: { type: 'string', default: 'binanceusdm' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    latency: { type: 'string', default: '0' },
    accounts: { type: 'string', default: '0' },
    usdt: { type: 'string', default: '1000000' },
  },
});

interface Running {
  url: string;
  close(): Promise<void>;
}
const STARTERS: Record<string, (options: ExchangeSimOptions) => Promise<Running>> = {
  binanceusdm: (o) => startBinanceSim({ ...o, accounts: o.accounts?.map((a) => ({ apiKey: a.apiKey, secret: a.secret, ...(a.usdt === undefined ? {} : { usdt: a.usdt }) })) }),
  okx: startOkxSim,
  bybit: startBybitSim,
  bitget: startBitgetSim,
  binance: startBinanceSpotSim,
};
/** Exchanges that sign with a passphrase as well. */
const PASSPHRASE = new Set(['okx', 'bitget']);

const start = STARTERS[values.exchange];
if (!start) {
  process.stderr.write(`--exchange must be one of ${Object.keys(STARTERS).join(', ')}\n`);
  process.exit(2);
}
const count = Number(values.accounts);
const usdt = Number(values.usdt);
const accounts: SimAccountSpec[] = Array.from({ length: Number.isInteger(count) && count > 0 ? count : 0 }, (_, i) => ({
  apiKey: `key-${i + 1}`,
  secret: `secret-${i + 1}`,
  ...(PASSPHRASE.has(values.exchange) ? { passphrase: `pass-${i + 1}` } : {}),
  usdt,
}));
const sim = await start({ port: Number(values.port), host: values.host, latencyMs: Number(values.latency), accounts });
process.stdout.write(`${JSON.stringify({ url: sim.url })}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void sim.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
