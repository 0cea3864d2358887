/**
 * What the chaos run reads back from a simulator's own book, the same for
 * every exchange: the Binance USD-M simulator speaks its own shapes
 * (`kind: 'order' | 'algo'`, `status: 'NEW'`, signed position amounts), the
 * others the exchange-neutral ones (`type: 'stop_loss'`, `status: 'open'`).
 */
export interface BookOrder {
  clientOrderId: string;
  account?: string;
  kind?: string;
  type?: string;
  status: string;
  origQty?: string;
  amount?: number;
}

export interface BookPosition {
  side: 'long' | 'short';
  amount: number;
}

/** A regular order (an entry or a close), not a trigger order. */
export const isRegular = (o: BookOrder): boolean => o.kind === 'order' || o.type === 'market' || o.type === 'limit';

/** A stop-loss or take-profit still waiting on the book. */
export const isOpenProtection = (o: BookOrder): boolean =>
  (o.kind === 'algo' && o.status === 'NEW') || ((o.type === 'stop_loss' || o.type === 'take_profit') && o.status === 'open');

export const amountOf = (o: BookOrder): number => Number(o.origQty ?? o.amount ?? 0);

export async function bookOrders(sim: string, apiKey?: string): Promise<BookOrder[]> {
  return (await (await fetch(`${sim}/__sim/orders${apiKey ? `?apiKey=${encodeURIComponent(apiKey)}` : ''}`)).json()) as BookOrder[];
}

export async function bookPositions(sim: string, apiKey: string): Promise<BookPosition[]> {
  const rows = (await (await fetch(`${sim}/__sim/positions?apiKey=${encodeURIComponent(apiKey)}`)).json()) as Array<{ side: string; amount: number }>;
  return rows
    .map((p) => ({ side: (p.side === 'SHORT' || p.side === 'short' || (p.side === 'BOTH' && p.amount < 0) ? 'short' : 'long') as BookPosition['side'], amount: Math.abs(Number(p.amount)) }))
    .filter((p) => p.amount > 0);
}

/**
 * One account's exposure on the book: its position, and how much of it its
 * open stop-losses and take-profits cover. `unprotected` when a position
 * has less stop-loss than size; `orphaned` counts protective orders left
 * on a side with no position.
 */
export async function exposureOf(sim: string, apiKey: string): Promise<{ positions: BookPosition[]; stopCover: number; unprotected: boolean; orphaned: number }> {
  const [positions, orders] = await Promise.all([bookPositions(sim, apiKey), bookOrders(sim, apiKey)]);
  const protection = orders.filter(isOpenProtection);
  const stops = protection.filter((o) => o.type === 'stop_loss' || o.type === 'STOP_MARKET' || o.type === 'STOP');
  const stopCover = stops.reduce((sum, o) => sum + amountOf(o), 0);
  const size = positions.reduce((sum, p) => sum + p.amount, 0);
  return { positions, stopCover, unprotected: size > 0 && stopCover + 1e-12 < size, orphaned: size === 0 ? protection.length : 0 };
}
