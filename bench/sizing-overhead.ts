import { startNode, startSim } from './processes.js';
import { percentile, round } from './stats.js';

export interface SizingRow {
  latency_ms: number;
  multiplier_p50_ms: number;
  equity_percent_p50_ms: number;
  multiplier_p99_ms: number;
  equity_percent_p99_ms: number;
  ratio_p50: number;
  ratio_p99: number;
  /** Exchange requests per signal, as the simulator counted them (the balance and ticker calls included). */
  multiplier_calls: Record<string, number>;
  equity_percent_calls: Record<string, number>;
  samples: number;
}

const SIGNAL_PATHS = ['POST /fapi/v1/order', 'GET /fapi/v3/account', 'GET /fapi/v1/ticker/24hr', 'POST /fapi/v1/leverage'];

/**
 * Sizing's cost on the node: one account's market entry through
 * `POST /api/execute`, sized by the center (`quantity`, the multiplier
 * mode) and by the node (`sizing: equity_percent`, which reads the
 * account's balance and one ticker first), alternated in one loop against
 * one simulator process, with the exchange calls each made counted.
 */
export async function sizingOverhead(options: { latencies: number[]; samples: number; warmup: number }): Promise<SizingRow[]> {
  const sim = await startSim(0);
  const node = await startNode({ TRADECTL_EXCHANGE_URLS: `binanceusdm=${sim.url}`, TRADECTL_EXECUTE_CONCURRENCY: '64' });
  const rows: SizingRow[] = [];
  const control = (path: string, body?: unknown) =>
    fetch(`${sim.url}/__sim/${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json() as Promise<Record<string, number>>);
  try {
    // Room for every entry of the run; 0.0000125% of 1e9 USDT is 125 USDT at 60,000: 0.002 BTC once rounded down, the multiplier's quantity.
    await control('accounts', [
      { apiKey: 'size-m', secret: 'size-m-secret', usdt: 1e9 },
      { apiKey: 'size-e', secret: 'size-e-secret', usdt: 1e9 },
    ]);
    let n = 0;
    const viaNode = async (sized: boolean) => {
      const id = `bz${process.pid}x${++n}`;
      const account = sized
        ? { account_id: 2, exchange: 'binanceusdm', api_key: 'size-e', api_secret: 'size-e-secret', client_order_id: id, sizing: { mode: 'equity_percent', value: 0.0000125 } }
        : { account_id: 1, exchange: 'binanceusdm', api_key: 'size-m', api_secret: 'size-m-secret', client_order_id: id, quantity: 0.002 };
      const body = JSON.stringify({ signal: { signal_id: id, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.002 }, accounts: [account] });
      const t = performance.now();
      const res = await fetch(`${node.url}/api/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const json = (await res.json()) as { results: Array<{ status: string; filled_quantity: number }> };
      const elapsed = performance.now() - t;
      const r = json.results[0];
      if (r?.status !== 'filled' || r.filled_quantity !== 0.002) throw new Error(`node answered ${JSON.stringify(json)}`);
      return elapsed;
    };
    const callsOf = async (run: () => Promise<unknown>) => {
      const before = await control('counts');
      await run();
      const after = await control('counts');
      return Object.fromEntries(SIGNAL_PATHS.map((p) => [p, (after[p] ?? 0) - (before[p] ?? 0)]));
    };

    for (const latency of options.latencies) {
      await control('latency', { ms: latency });
      const m: number[] = [];
      const e: number[] = [];
      for (let i = 0; i < options.warmup + options.samples; i++) {
        const a = await viaNode(false);
        const b = await viaNode(true);
        if (i >= options.warmup) {
          m.push(a);
          e.push(b);
        }
      }
      const mp50 = percentile(m, 50);
      const ep50 = percentile(e, 50);
      const mp99 = percentile(m, 99);
      const ep99 = percentile(e, 99);
      rows.push({
        latency_ms: latency,
        multiplier_p50_ms: round(mp50),
        equity_percent_p50_ms: round(ep50),
        multiplier_p99_ms: round(mp99),
        equity_percent_p99_ms: round(ep99),
        ratio_p50: round(ep50 / mp50, 3),
        ratio_p99: round(ep99 / mp99, 3),
        multiplier_calls: await callsOf(() => viaNode(false)),
        equity_percent_calls: await callsOf(() => viaNode(true)),
        samples: options.samples,
      });
    }
  } finally {
    await node.stop();
    await sim.stop();
  }
  return rows;
}
