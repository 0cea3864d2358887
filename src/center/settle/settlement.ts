import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * Settlement (seed §4): each fill charges the account owner's point card
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
  notionalUnits: number;
}

export interface Settlement {
  feeUnits: number;
  rewards: Array<{ userId: number; level: number; units: number }>;
  poolUnits: number;
}

export function computeSettlement(fill: FillToSettle, inviters: number[], rules: SettlementRules): Settlement {
  const feeUnits = Math.floor(fill.notionalUnits * rules.feeRate);
  const rewards = inviters.slice(0, rules.referralShares.length).map((userId, i) => ({
    userId,
    level: i + 1,
    units: Math.floor(feeUnits * (rules.referralShares[i] ?? 0)),
  }));
  const poolUnits = feeUnits - rewards.reduce((sum, r) => sum + r.units, 0);
  return { feeUnits, rewards, poolUnits };
}

/** The inviter chain above a user, nearest first, stopping at a cycle. */
export async function inviterChain(db: Kysely<Database>, userId: number, depth: number): Promise<number[]> {
  const chain: number[] = [];
  const seen = new Set([userId]);
  let current = userId;
  while (chain.length < depth) {
    const row = await db.selectFrom('dim_user').select('inviter_id').where('id', '=', current).executeTakeFirst();
    const next = row?.inviter_id ?? null;
    if (next === null || seen.has(next)) break;
    chain.push(next);
    seen.add(next);
    current = next;
  }
  return chain;
}

/**
 * Writes the ledger rows and balance changes of one fill inside `trx`. The
 * ledger rows go in one multi-row INSERT: on MySQL every statement is a
 * round trip, and with 1,000 fills per signal the round trips were most of
 * the center's time (bench fan-out profile).
 */
export async function settleFill(trx: Transaction<Database>, fill: FillToSettle, rules: SettlementRules, now: number): Promise<Settlement> {
  const inviters = await inviterChain(trx, fill.userId, rules.referralShares.length);
  const settlement = computeSettlement(fill, inviters, rules);
  if (settlement.feeUnits <= 0) return settlement;
  const key = `${fill.orderId}:${fill.fillKey}`;
  const rewards = settlement.rewards.filter((r) => r.units > 0);
  await trx
    .insertInto('fact_ledger')
    .values([
      { entry_key: `fee:${key}`, kind: 'fee_charge', user_id: fill.userId, order_id: fill.orderId, amount_units: -settlement.feeUnits, created_at: now },
      ...rewards.map((r) => ({ entry_key: `ref${r.level}:${key}`, kind: 'referral_reward', user_id: r.userId, order_id: fill.orderId, amount_units: r.units, created_at: now })),
      ...(settlement.poolUnits > 0 ? [{ entry_key: `pool:${key}`, kind: 'pool_income', user_id: null, order_id: fill.orderId, amount_units: settlement.poolUnits, created_at: now }] : []),
    ])
    .execute();
  await trx
    .updateTable('dim_user')
    .set((eb) => ({ points_units: eb('points_units', '-', settlement.feeUnits) }))
    .where('id', '=', fill.userId)
    .execute();
  for (const reward of rewards) {
    await trx
      .updateTable('dim_user')
      .set((eb) => ({ rewards_units: eb('rewards_units', '+', reward.units) }))
      .where('id', '=', reward.userId)
      .execute();
  }
  if (settlement.poolUnits > 0) {
    await trx
      .updateTable('dim_profit_pool')
      .set((eb) => ({ balance_units: eb('balance_units', '+', settlement.poolUnits), updated_at: now }))
      .where('id', '=', 1)
      .execute();
  }
  return settlement;
}
