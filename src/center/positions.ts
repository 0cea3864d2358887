import { sql, type Kysely } from 'kysely';
import type { Database } from './db/schema.js';

/**
 * Each follower's positions two ways: as tradectl's fills make them
 * (`fact_follower_position`) and as the exchange last reported them
 * (`fact_position`, from a positions sync). They drift apart when a follower
 * trades by hand, a fill was missed, or a position was liquidated; the
 * difference is only judged once the exchange was read after tradectl's
 * last change, so a sync that predates a fill is not called drift.
 */

/** Relative slack between the two sizes (rounding to the exchange's precision). */
const DRIFT_TOLERANCE = 1e-6;

export interface FollowerPositionView {
  symbol: string;
  side: 'long' | 'short';
  /** tradectl's book: what its fills add up to, their average entry, what its closes realised (net of their fees). */
  quantity: number;
  entry_price: number | null;
  realised_pnl: number;
  /** The exchange's, from the last positions sync; null before the first one. */
  exchange_quantity: number | null;
  exchange_entry_price: number | null;
  synced_at: string | null;
  /** `ok`, `drift` (the two differ), or `not_synced` (no sync since tradectl's last change). */
  state: 'ok' | 'drift' | 'not_synced';
  /** tradectl's stop-losses and take-profits on this side, resting as their nodes last reported. */
  protective_orders: ProtectiveOrderView[];
  /** A leg would close more than tradectl holds (a stop that outlived its close): the reconciler sends the latest action again. */
  excess_protection: boolean;
  updated_at: string;
}

export interface ProtectiveOrderView {
  leg: 'stop_loss' | 'take_profit';
  order_id: string;
  client_order_id: string;
  amount: number;
  trigger_price: number;
  /** The tradectl order whose request placed it (GET /api/orders/{id}). */
  placed_by: number;
  placed_at: string;
}

export function drifts(quantity: number, exchange: number): boolean {
  return Math.abs(quantity - exchange) > DRIFT_TOLERANCE * Math.max(1, Math.abs(quantity), Math.abs(exchange));
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** One account's positions, tradectl's and the exchange's side by side, every (symbol, side) either knows. */
export async function positionsOf(db: Kysely<Database>, accountId: number): Promise<FollowerPositionView[]> {
  const [book, exchange, account, protective] = await Promise.all([
    db.selectFrom('fact_follower_position').selectAll().where('account_id', '=', accountId).execute(),
    db.selectFrom('fact_position').selectAll().where('account_id', '=', accountId).execute(),
    db.selectFrom('fact_exchange_account').select('positions_synced_at').where('id', '=', accountId).executeTakeFirst(),
    db.selectFrom('fact_protective_order').selectAll().where('account_id', '=', accountId).where('state', '=', 'live').orderBy('id').execute(),
  ]);
  const syncedAt = account?.positions_synced_at ?? null;
  const keys = new Set([...book.map((b) => `${b.symbol}|${b.side}`), ...exchange.map((e) => `${e.symbol}|${e.side}`), ...protective.map((p) => `${p.symbol}|${p.side}`)]);
  const out: FollowerPositionView[] = [];
  for (const key of [...keys].sort()) {
    const [symbol, side] = key.split('|') as [string, 'long' | 'short'];
    const mine = book.find((b) => b.symbol === symbol && b.side === side);
    const theirs = exchange.find((e) => e.symbol === symbol && e.side === side);
    const quantity = mine ? Number(mine.quantity) : 0;
    // A sync that found no position on this side reads as zero.
    const exchangeQuantity = theirs ? (theirs.size ?? theirs.contracts) : syncedAt === null ? null : 0;
    const guards = protective.filter((p) => p.symbol === symbol && p.side === side);
    if (quantity === 0 && !exchangeQuantity && guards.length === 0) continue;
    const legTotal = (leg: string) => guards.filter((p) => p.leg === leg).reduce((sum, p) => sum + Number(p.amount), 0);
    const updatedAt = mine?.updated_at ?? 0;
    const state = syncedAt === null || syncedAt < updatedAt || exchangeQuantity === null ? 'not_synced' : drifts(quantity, exchangeQuantity) ? 'drift' : 'ok';
    out.push({
      symbol,
      side,
      quantity,
      entry_price: mine?.entry_price === null || mine === undefined ? null : Number(mine.entry_price),
      realised_pnl: mine ? Number(mine.realised_pnl) : 0,
      exchange_quantity: exchangeQuantity,
      exchange_entry_price: theirs?.entry_price ?? null,
      synced_at: iso(syncedAt),
      state,
      protective_orders: guards.map((p) => ({
        leg: p.leg as ProtectiveOrderView['leg'],
        order_id: p.exchange_order_id,
        client_order_id: p.client_order_id,
        amount: Number(p.amount),
        trigger_price: Number(p.trigger_price),
        placed_by: p.order_id,
        placed_at: iso(p.created_at) as string,
      })),
      excess_protection: Math.max(legTotal('stop_loss'), legTotal('take_profit')) > quantity * (1 + 1e-9) + 1e-12,
      updated_at: iso(updatedAt || syncedAt) as string,
    });
  }
  return out;
}

/** Accounts with at least one drifting position, for `/metrics`. */
export async function driftingAccounts(db: Kysely<Database>): Promise<number> {
  // Candidates in SQL (both books for accounts synced since their last change), the comparison here: sizes are decimal text on one side.
  const rows = await db
    .selectFrom('fact_exchange_account as a')
    .leftJoin('fact_follower_position as b', 'b.account_id', 'a.id')
    .leftJoin('fact_position as e', (join) => join.onRef('e.account_id', '=', 'a.id').onRef('e.symbol', '=', 'b.symbol').onRef('e.side', '=', 'b.side'))
    .select(['a.id as account_id', 'a.positions_synced_at', 'b.quantity', 'b.updated_at', 'e.size', 'e.contracts'])
    .where('a.positions_synced_at', 'is not', null)
    .where('b.id', 'is not', null)
    .where(sql<boolean>`b.updated_at <= a.positions_synced_at`)
    .execute();
  const drifting = new Set<number>();
  for (const r of rows) {
    const exchange = r.size ?? r.contracts ?? 0;
    if (drifts(Number(r.quantity ?? 0), exchange)) drifting.add(r.account_id);
  }
  // Positions only the exchange holds (opened by hand): tradectl's book has no row for them.
  const untracked = await db
    .selectFrom('fact_position as e')
    .leftJoin('fact_follower_position as b', (join) => join.onRef('b.account_id', '=', 'e.account_id').onRef('b.symbol', '=', 'e.symbol').onRef('b.side', '=', 'e.side'))
    .select('e.account_id')
    .where('b.id', 'is', null)
    .execute();
  for (const r of untracked) drifting.add(r.account_id);
  return drifting.size;
}
