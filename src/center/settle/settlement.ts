import type { Insertable, Kysely, Transaction } from 'kysely';
import { addToRowsById, insertRows } from '../db/bulk-writes.js';
import type { Database, LedgerTable } from '../db/schema.js';
import { ratioOf, shareOf, type Ratio } from './units.js';

/**
 * Settlement (docs/design.md R4): each fill charges the account owner's point card
 * `notional × fee_rate`; `referral_shares` of that fee go up the inviter
 * chain (level 1, level 2, …) as rewards; the rest goes to the profit pool.
 *
 * Every movement is a `fact_ledger` row with a unique `entry_key` derived
 * from the fill, written in the caller's transaction with the balance
 * change, so a replayed fill cannot charge or pay twice.
 */
export interface SettlementRules {
  feeRate: number;
  referralShares: readonly number[];
}

export interface FillToSettle {
  orderId: number;
  userId: number;
  /** Identifies this fill within the order (its cumulative quantity). */
  fillKey: string;
  notionalUnits: bigint;
}

export interface Settlement {
  feeUnits: bigint;
  rewards: Array<{ userId: number; level: number; units: bigint }>;
  poolUnits: bigint;
}

/** The rules as exact ratios, made once per rules object: the config's floats read by their shortest decimal form. */
const exactRules = new WeakMap<SettlementRules, { fee: Ratio; shares: Ratio[] }>();

function exactOf(rules: SettlementRules): { fee: Ratio; shares: Ratio[] } {
  let exact = exactRules.get(rules);
  if (!exact) {
    exact = { fee: ratioOf(rules.feeRate), shares: rules.referralShares.map(ratioOf) };
    exactRules.set(rules, exact);
  }
  return exact;
}

/**
 * fee = floor(notional × fee_rate), each reward = floor(fee × its share),
 * the pool the remainder: integer arithmetic on exact ratios, so the parts
 * add up to the fee to the unit and the same fill always settles the same.
 */
export function computeSettlement(fill: FillToSettle, inviters: number[], rules: SettlementRules): Settlement {
  const exact = exactOf(rules);
  const feeUnits = shareOf(fill.notionalUnits, exact.fee);
  const rewards = inviters.slice(0, exact.shares.length).map((userId, i) => ({
    userId,
    level: i + 1,
    units: shareOf(feeUnits, exact.shares[i] as Ratio),
  }));
  const poolUnits = feeUnits - rewards.reduce((sum, r) => sum + r.units, 0n);
  return { feeUnits, rewards, poolUnits };
}

/**
 * The inviter chains above `userIds`, nearest first, each stopping at a
 * cycle: one query per level for the whole batch rather than one per user
 * per level.
 */
export async function inviterChains(db: Kysely<Database>, userIds: readonly number[], depth: number): Promise<Map<number, number[]>> {
  const inviterOf = new Map<number, number | null>();
  let ask = [...new Set(userIds)];
  for (let level = 0; level < depth && ask.length > 0; level++) {
    const rows = await db.selectFrom('dim_user').select(['id', 'inviter_id']).where('id', 'in', ask).execute();
    for (const id of ask) inviterOf.set(id, null);
    for (const row of rows) inviterOf.set(row.id, row.inviter_id);
    ask = [...new Set(rows.map((r) => r.inviter_id).filter((id): id is number => id !== null && !inviterOf.has(id)))];
  }
  const chains = new Map<number, number[]>();
  for (const userId of new Set(userIds)) {
    const chain: number[] = [];
    const seen = new Set([userId]);
    let current = userId;
    while (chain.length < depth) {
      const next = inviterOf.get(current) ?? null;
      if (next === null || seen.has(next)) break;
      chain.push(next);
      seen.add(next);
      current = next;
    }
    chains.set(userId, chain);
  }
  return chains;
}

/**
 * Writes the ledger rows and balance changes of many fills inside `trx`:
 * all ledger rows in one multi-row INSERT, the point cards and reward
 * balances with `addToRowsById` (one statement on MySQL, where every
 * statement is a round trip and 1,000 fills per signal made the round trips
 * most of the center's time), the pool in one UPDATE. Users are touched in
 * key order, so concurrent batches lock them in the same order.
 */
export async function settleFills(trx: Transaction<Database>, fills: readonly FillToSettle[], rules: SettlementRules, now: number): Promise<Settlement[]> {
  if (fills.length === 0) return [];
  const chains = await inviterChains(trx, fills.map((f) => f.userId), rules.referralShares.length);
  const settlements = fills.map((fill) => computeSettlement(fill, chains.get(fill.userId) ?? [], rules));
  const ledger: Insertable<LedgerTable>[] = [];
  const charges = new Map<number, bigint>();
  const rewardsTo = new Map<number, bigint>();
  let poolUnits = 0n;
  fills.forEach((fill, i) => {
    const settlement = settlements[i] as Settlement;
    if (settlement.feeUnits <= 0n) return;
    const key = `${fill.orderId}:${fill.fillKey}`;
    ledger.push({ entry_key: `fee:${key}`, kind: 'fee_charge', user_id: fill.userId, order_id: fill.orderId, amount_units: -settlement.feeUnits, created_at: now });
    charges.set(fill.userId, (charges.get(fill.userId) ?? 0n) + settlement.feeUnits);
    for (const r of settlement.rewards) {
      if (r.units <= 0n) continue;
      ledger.push({ entry_key: `ref${r.level}:${key}`, kind: 'referral_reward', user_id: r.userId, order_id: fill.orderId, amount_units: r.units, created_at: now });
      rewardsTo.set(r.userId, (rewardsTo.get(r.userId) ?? 0n) + r.units);
    }
    if (settlement.poolUnits > 0n) {
      ledger.push({ entry_key: `pool:${key}`, kind: 'pool_income', user_id: null, order_id: fill.orderId, amount_units: settlement.poolUnits, created_at: now });
      poolUnits += settlement.poolUnits;
    }
  });
  if (ledger.length === 0) return settlements;
  await insertRows(trx, 'fact_ledger', ledger);
  const userIds = [...new Set([...charges.keys(), ...rewardsTo.keys()])].sort((a, b) => a - b);
  await addToRowsById(
    trx,
    'dim_user',
    ['points_units', 'rewards_units'],
    userIds.map((id) => ({ id, amounts: [-(charges.get(id) ?? 0n), rewardsTo.get(id) ?? 0n] })),
  );
  if (poolUnits > 0n) {
    await trx
      .updateTable('dim_profit_pool')
      .set((eb) => ({ balance_units: eb('balance_units', '+', poolUnits), updated_at: now }))
      .where('id', '=', 1)
      .execute();
  }
  return settlements;
}

/** One fill's settlement; see `settleFills`. */
export async function settleFill(trx: Transaction<Database>, fill: FillToSettle, rules: SettlementRules, now: number): Promise<Settlement> {
  const [settlement] = await settleFills(trx, [fill], rules, now);
  return settlement as Settlement;
}
