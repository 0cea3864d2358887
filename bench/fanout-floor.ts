import ccxt, { type Exchange } from 'ccxt';
import { instanceSettings, redirectInstance } from '../src/exchange/trader-pool.js';

/**
 * A child process of the fan-out bench's floor: ccxt instances for a slice
 * of the simulator's accounts, created and warmed before any timing, then
 * on each `round` message every account places entry, then stop-loss and
 * take-profit together — the calls and parameters the node's execute()
 * makes — and the child answers with each account's latency.
 *
 * Run by bench/fanout.ts with fork(); argv: simulator URL, then account
 * numbers (key-N / secret-N).
 */
export interface FloorRound {
  round: string;
}

export interface FloorAnswer {
  round: string;
  per_account_ms: number[];
  failures: string[];
}

const [simUrl, ...accountArgs] = process.argv.slice(2);
if (!simUrl || !process.send) throw new Error('fanout-floor runs as a forked child: fanout-floor.ts <sim url> <account numbers…>');
const send = process.send.bind(process);
const SYMBOL = 'BTC/USDT:USDT';

// The same instance settings as the node's trader pool (no throttle, no
// currency fetch, no copy of the last response), markets loaded once and shared.
const settings = (n?: number) => ({ ...(n === undefined ? {} : { apiKey: `key-${n}`, secret: `secret-${n}` }), ...instanceSettings('binanceusdm', 10_000) });
const template = new ccxt.binanceusdm(settings());
redirectInstance(template, simUrl);
await template.loadMarkets();
const instances: Array<[number, Exchange]> = accountArgs.map((a) => {
  const n = Number(a);
  const instance = new ccxt.binanceusdm(settings(n));
  redirectInstance(instance, simUrl);
  instance.setMarketsFromExchange(template);
  return [n, instance];
});

async function account(n: number, instance: Exchange, round: string): Promise<number> {
  const id = `${round}x${n}`;
  const started = performance.now();
  const entry = await instance.createOrder(SYMBOL, 'market', 'buy', 0.002, undefined, { clientOrderId: id });
  const amount = entry.filled ?? 0.002;
  await Promise.all([
    instance.createOrder(SYMBOL, 'market', 'sell', amount, undefined, { clientOrderId: `${id}s`, reduceOnly: true, stopLossPrice: 50_000 }),
    instance.createOrder(SYMBOL, 'market', 'sell', amount, undefined, { clientOrderId: `${id}t`, reduceOnly: true, takeProfitPrice: 70_000 }),
  ]);
  return performance.now() - started;
}

process.on('message', (message: FloorRound) => {
  const failures: string[] = [];
  void Promise.all(
    instances.map(([n, instance]) =>
      account(n, instance, message.round).catch((error: unknown) => {
        failures.push(`key-${n}: ${(error as Error).message}`.slice(0, 300));
        return Number.NaN;
      }),
    ),
  ).then((perAccount) => send({ round: message.round, per_account_ms: perAccount, failures } satisfies FloorAnswer));
});
// A clean exit on SIGTERM, so a --cpu-prof profile is written.
process.once('SIGTERM', () => process.exit(0));
send({ ready: true });
