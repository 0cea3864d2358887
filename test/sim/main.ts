import { parseArgs } from 'node:util';
import { startBinanceSim } from './binance-sim.js';

/**
 * The simulator as its own process, for benchmarks and manual runs:
 *   node --import tsx test/sim/main.ts [--port N] [--latency MS] [--accounts N] [--usdt AMOUNT]
 * registers key-1…key-N with secrets secret-1…secret-N (wallet --usdt,
 * default 1,000,000 so load runs are not stopped by margin) and prints
 * {"url":"http://127.0.0.1:PORT"} once listening. Control it over /__sim/.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    latency: { type: 'string', default: '0' },
    accounts: { type: 'string', default: '0' },
    usdt: { type: 'string', default: '1000000' },
  },
});

const count = Number(values.accounts);
const usdt = Number(values.usdt);
const accounts = Array.from({ length: Number.isInteger(count) && count > 0 ? count : 0 }, (_, i) => ({ apiKey: `key-${i + 1}`, secret: `secret-${i + 1}`, usdt }));
const sim = await startBinanceSim({ port: Number(values.port), host: values.host, latencyMs: Number(values.latency), accounts });
process.stdout.write(`${JSON.stringify({ url: sim.url })}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void sim.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
