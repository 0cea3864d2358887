import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * What the protection pass watches: positions whose protection does not
 * match what tradectl's fills hold.
 *
 * - Short: an open's (or a reverse's) entry filled, partly or in full, and a
 *   stop-loss or take-profit its signal asked for is missing or covers less
 *   than the fill; or the entry still rests and may fill more. The entry's
 *   order is sent again, protect-only: the node finds the entry and places
 *   or grows what is missing, placing no entry.
 * - Excess: live protective orders close more of a position side than
 *   tradectl's book holds (a close whose stop could not be cancelled, a
 *   reduce whose stop could not be resized, a grown stop whose smaller one
 *   could not be cancelled). The account's latest order on the symbol is
 *   sent again, protect-only: the node finds its orders and makes the
 *   protection follow the position, closing nothing.
 *
 * Only the account's latest order on a symbol is ever sent again: once a
 * later signal has acted on the position, an earlier one's protection is no
 * longer what it needs.
 */

/** Relative slack between sizes that went through decimal rounding. */
const SIZE_EPSILON = 1e-9;

/**
 * No later order of the account on the symbol acted on the position: one
 * that was skipped, or refused or failed without filling anything (itself or
 * a closing leg), leaves the position to the earlier order.
 */
export const latestOnSymbol = sql<boolean>`not exists (select 1 from fact_order later where later.account_id = o.account_id and later.symbol = o.symbol and later.id > o.id and later.status <> 'skipped'
  and not (later.status in ('rejected', 'failed') and later.filled_quantity = '0' and not exists (select 1 from fact_order_leg l where l.order_id = later.id and l.filled_quantity <> '0')))`;
const missingLeg = sql<boolean>`((s.stop_loss is not null and o.stop_loss_order_id is null) or (s.take_profit is not null and o.take_profit_order_id is null))`;

/** The entries the pass looks at, newest protected first; `since`: signals accepted from then on. */
export function shortCandidates(db: Kysely<Database>, since: number) {
  return db
    .selectFrom('fact_order as o')
    .innerJoin('fact_signal as s', 's.id', 'o.signal_row_id')
    .select(['o.id', 'o.signal_row_id', 'o.status', 'o.filled_quantity', 'o.protected_quantity', 'o.stop_loss_error', 'o.take_profit_error', 's.accepted_at', sql<number>`case when ${missingLeg} then 1 else 0 end`.as('missing')])
    .where('o.status', 'in', ['filled', 'partially_filled', 'open'])
    .where('s.action', 'in', ['open', 'reverse'])
    .where(sql<boolean>`(s.stop_loss is not null or s.take_profit is not null)`)
    // Cheap first cut; the exact size comparison is `isShort`'s.
    .where(sql<boolean>`(${missingLeg} or o.status <> 'filled' or (o.protected_quantity is not null and o.protected_quantity <> o.filled_quantity))`)
    .where('s.accepted_at', '>=', since)
    .where(latestOnSymbol);
}

/** Leg refusals a resend cannot get past (the exchange refuses the order itself); `code: message`, as stored. */
const PERMANENT = /^(invalid_order|below_minimum|market_not_found|exchange_not_supported|auth_failed):/;

/**
 * Whether an entry needs its protection placed or grown: a leg missing, an
 * entry that may fill more, a leg smaller than the fill. A leg the exchange
 * refused outright is tried again only while the signal is younger than
 * `retryRefusedFor` (signal_max_age), not for the whole protect window.
 */
export function needsProtection(
  row: { status: string; filled_quantity: string; protected_quantity: string | null; missing: number | boolean; stop_loss_error: string | null; take_profit_error: string | null; accepted_at: number },
  now: number,
  retryRefusedFor: number,
): boolean {
  const refused = [row.stop_loss_error, row.take_profit_error].some((e) => e !== null && PERMANENT.test(e));
  if (refused && row.status === 'filled' && now - row.accepted_at > retryRefusedFor) return false;
  if (Number(row.missing) === 1 || row.status !== 'filled') return true;
  return isShort(row);
}

/** A position held with less protection than its fill: a leg missing, or smaller than what filled. */
export function isShort(row: { status: string; filled_quantity: string; protected_quantity: string | null; missing: number | boolean }): boolean {
  const filled = Number(row.filled_quantity);
  if (!(filled > 0)) return false;
  if (Number(row.missing) === 1) return true;
  return row.protected_quantity !== null && Number(row.protected_quantity) < filled * (1 - SIZE_EPSILON);
}

export interface ExcessPosition {
  accountId: number;
  symbol: string;
  side: string;
  /** What tradectl's book holds, and what the side's largest leg would close. */
  held: number;
  protecting: number;
}

/**
 * Position sides whose live protective orders (of either leg) would close
 * more than the account holds: more than tradectl's book and more than the
 * exchange's size at the last positions sync (a follower that added to a
 * position by hand holds more than the book, and stops sized to the
 * exchange's position are not excess).
 */
export async function excessProtection(db: Kysely<Database>): Promise<ExcessPosition[]> {
  const rows = await db
    .selectFrom('fact_protective_order as p')
    .leftJoin('fact_follower_position as b', (join) => join.onRef('b.account_id', '=', 'p.account_id').onRef('b.symbol', '=', 'p.symbol').onRef('b.side', '=', 'p.side'))
    .leftJoin('fact_position as e', (join) => join.onRef('e.account_id', '=', 'p.account_id').onRef('e.symbol', '=', 'p.symbol').onRef('e.side', '=', 'p.side'))
    .select(['p.account_id', 'p.symbol', 'p.side', 'p.leg', 'p.amount', 'b.quantity', 'e.size', 'e.contracts'])
    .where('p.state', '=', 'live')
    .execute();
  const sides = new Map<string, ExcessPosition & { legs: Map<string, number> }>();
  for (const r of rows) {
    const key = `${r.account_id}|${r.symbol}|${r.side}`;
    const held = Math.max(Number(r.quantity ?? 0), Number(r.size ?? r.contracts ?? 0));
    const side = sides.get(key) ?? { accountId: r.account_id, symbol: r.symbol, side: r.side, held, protecting: 0, legs: new Map() };
    side.legs.set(r.leg, (side.legs.get(r.leg) ?? 0) + Number(r.amount));
    sides.set(key, side);
  }
  return [...sides.values()]
    .map(({ legs, ...side }) => ({ ...side, protecting: Math.max(...legs.values()) }))
    .filter((s) => s.protecting > s.held * (1 + SIZE_EPSILON) + 1e-12);
}

/** Positions held without (all of) the stop-loss or take-profit their signal asked for. */
export async function unprotectedCount(db: Kysely<Database>): Promise<number> {
  const rows = await shortCandidates(db, 0).where('o.status', 'in', ['filled', 'partially_filled']).execute();
  return rows.filter(isShort).length;
}
