import ccxt from 'ccxt';
import { instanceSettings, redirectInstance } from '../src/exchange/trader-pool.js';
import { startHelloHono, startNode, startSim } from './processes.js';
import { percentile, round } from './stats.js';

export interface OverheadRow {
  scenario: string;
  latency_ms: number;
  direct_p50_ms: number;
  node_p50_ms: number;
  direct_p99_ms: number;
  node_p99_ms: number;
  ratio_p50: number;
  ratio_p99: number;
  /** node p50 − direct p50: everything the node adds, including the HTTP hop. */
  added_p50_ms: number;
  /** A bare Hono round trip with the same client and body: the hop alone. */
  hop_p50_ms: number;
  samples: number;
}

/**
 * Node overhead: the same order(s) for one account, placed (a) by ccxt in this
 * process from a warm instance and (b) through `POST /api/execute` on a node
 * process, against one simulator process. Alternating the two in one loop
 * spreads the machine's noise over both.
 */
export async function nodeOverhead(options: { latencies: number[]; samples: number; warmup: number }): Promise<OverheadRow[]> {
  const sim = await startSim(2);
  const node = await startNode({ TRADECTL_EXCHANGE_URLS: `binanceusdm=${sim.url}`, TRADECTL_EXECUTE_CONCURRENCY: '64' });
  const hello = await startHelloHono();
  const rows: OverheadRow[] = [];
  try {
    const direct = new ccxt.binanceusdm({ apiKey: 'key-1', secret: 'secret-1', ...instanceSettings('binanceusdm', 10_000) });
    redirectInstance(direct, sim.url);
    await direct.loadMarkets();
    const account = { account_id: 2, exchange: 'binanceusdm', api_key: 'key-2', api_secret: 'secret-2' };
    let n = 0;

    const viaDirect = async (protect: boolean) => {
      const id = `bd${process.pid}x${++n}`;
      const t = performance.now();
      const entry = await direct.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.002, undefined, { clientOrderId: id });
      if (protect) {
        await Promise.all([
          direct.createOrder('BTC/USDT:USDT', 'market', 'sell', entry.filled ?? 0.002, undefined, { clientOrderId: `${id}SL`, stopLossPrice: 50000, reduceOnly: true }),
          direct.createOrder('BTC/USDT:USDT', 'market', 'sell', entry.filled ?? 0.002, undefined, { clientOrderId: `${id}TP`, takeProfitPrice: 70000, reduceOnly: true }),
        ]);
      }
      return performance.now() - t;
    };
    const viaNode = async (protect: boolean) => {
      const id = `bn${process.pid}x${++n}`;
      const body = JSON.stringify({
        signal: { signal_id: id, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.002, ...(protect ? { stop_loss: 50000, take_profit: 70000 } : {}) },
        accounts: [{ ...account, client_order_id: id }],
      });
      const t = performance.now();
      const res = await fetch(`${node.url}/api/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const json = (await res.json()) as { results: Array<{ status: string; stop_loss_order_id?: string | null }> };
      const elapsed = performance.now() - t;
      const r = json.results[0];
      if (r?.status !== 'filled' || (protect && !r.stop_loss_order_id)) throw new Error(`node answered ${JSON.stringify(json)}`);
      return elapsed;
    };
    const viaHop = async () => {
      const id = `bh${process.pid}x${++n}`;
      const body = JSON.stringify({ signal: { signal_id: id, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.002 }, accounts: [{ ...account, client_order_id: id }] });
      const t = performance.now();
      const res = await fetch(`${hello.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.json();
      return performance.now() - t;
    };

    for (const latency of options.latencies) {
      await fetch(`${sim.url}/__sim/latency`, { method: 'POST', body: JSON.stringify({ ms: latency }) });
      for (const protect of [false, true]) {
        const d: number[] = [];
        const v: number[] = [];
        const hop: number[] = [];
        for (let i = 0; i < options.warmup + options.samples; i++) {
          const a = await viaDirect(protect);
          const b = await viaNode(protect);
          const c = await viaHop();
          if (i >= options.warmup) {
            d.push(a);
            v.push(b);
            hop.push(c);
          }
        }
        const dp50 = percentile(d, 50);
        const vp50 = percentile(v, 50);
        const dp99 = percentile(d, 99);
        const vp99 = percentile(v, 99);
        rows.push({
          scenario: protect ? 'entry + stop-loss + take-profit' : 'entry only',
          latency_ms: latency,
          direct_p50_ms: round(dp50),
          node_p50_ms: round(vp50),
          direct_p99_ms: round(dp99),
          node_p99_ms: round(vp99),
          ratio_p50: round(vp50 / dp50, 3),
          ratio_p99: round(vp99 / dp99, 3),
          added_p50_ms: round(vp50 - dp50),
          hop_p50_ms: round(percentile(hop, 50)),
          samples: options.samples,
        });
      }
    }
  } finally {
    await hello.stop();
    await node.stop();
    await sim.stop();
  }
  return rows;
}
