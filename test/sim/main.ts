import { parseArgs } from 'node:util';
import { startBinanceSim } from './binance-sim.js';

/**
 * The simulator as its own process, for benchmarks and manual runs:
 *   node --import tsx test/sim/main.ts --port 9900 --latency 50 --accounts 100
 * registers key-1…key-N with secrets secret-1…secret-N and prints
 * {"url":"http://127.0.0.1:PORT"} once listening.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    latency: { type: 'string', default: '0' },
    accounts: { type: 'string', default: '0' },
  },
});

const accounts = Array.from({ length: Number(values.accounts) }, (_, i) => ({ apiKey: `key-${i + 1}`, secret: `secret-${i + 1}`, usdt: 1_000_000 }));
const sim = await startBinanceSim({ port: Number(values.port), host: values.host, latencyMs: Number(values.latency), accounts });
process.stdout.write(`${JSON.stringify({ url: sim.url })}\n`);

const stop = () => {
  void sim.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
