import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * Orders of an open or a reverse whose entry filled (partly, or rests and
 * may fill) while a stop-loss or take-profit its signal asked for has no
 * exchange id, and that is still the account's latest order on the symbol: the query the reconciler protects them from, and the count
 * `/metrics` reports. Resting entries (`open`) are sent again too, so one
 * that filled since its answer gets its protection; they are not counted
 * as unprotected, since nothing is held yet.
 */
export function unprotectedOrders(db: Kysely<Database>, statuses: readonly string[] = ['filled', 'partially_filled', 'open']) {
  return db
    .selectFrom('fact_order as o')
    .innerJoin('fact_signal as s', 's.id', 'o.signal_row_id')
    .where('o.status', 'in', [...statuses])
    .where('s.action', 'in', ['open', 'reverse'])
    .where(sql<boolean>`((s.stop_loss is not null and o.stop_loss_order_id is null) or (s.take_profit is not null and o.take_profit_order_id is null))`)
    // Only the account's latest order on the symbol: once a later signal has acted on the position
    // (closed it, opened another), an earlier entry's protection is no longer what it needs.
    .where(sql<boolean>`not exists (select 1 from fact_order later where later.account_id = o.account_id and later.symbol = o.symbol and later.id > o.id and later.status <> 'skipped')`);
}

/** Positions held without a stop-loss or take-profit their signal asked for. */
export async function unprotectedCount(db: Kysely<Database>): Promise<number> {
  const row = await unprotectedOrders(db, ['filled', 'partially_filled'])
    .select(({ fn }) => fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
