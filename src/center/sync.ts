import type { BalanceResult, PositionResult, SyncAccount } from '../core/wire-sync.js';
import type { CenterContext } from './context.js';
import { openCredentials } from './crypto/secret-box.js';
import { transact } from './db/connect.js';
import { groupByDestination, routerFor, transportOf } from './routing.js';

export interface SyncFilter {
  account_ids?: number[] | undefined;
  node_code?: string | undefined;
}

export interface SyncSummary {
  accounts: number;
  synced: number;
  failed: Array<{ account_id: number; code: string; message: string }>;
}

type Kind = 'balance' | 'positions';

/**
 * docs/design.md R5.2: asks each account's node (or the center itself) for balances
 * or positions and writes `fact_account` / `fact_position`. One request per
 * node, all nodes in parallel; one account's failure is reported, not fatal.
 */
export async function syncAccounts(ctx: CenterContext, kind: Kind, filter: SyncFilter): Promise<SyncSummary> {
  const k = ctx.db.kysely;
  let query = k
    .selectFrom('fact_exchange_account as a')
    .leftJoin('dim_execution_node as n', 'n.id', 'a.execution_node_id')
    .select(['a.id', 'a.exchange', 'a.api_key_enc', 'a.api_secret_enc', 'a.passphrase_enc', 'a.sandbox', 'a.execution_node_id', 'n.node_code'])
    .where('a.enabled', '=', 1);
  if (filter.account_ids?.length) query = query.where('a.id', 'in', filter.account_ids);
  if (filter.node_code) query = query.where('n.node_code', '=', filter.node_code);
  const rows = await query.orderBy('a.id').execute();
  const summary: SyncSummary = { accounts: rows.length, synced: 0, failed: [] };
  if (rows.length === 0) return summary;

  const router = await routerFor(ctx, rows.map((r) => r.execution_node_id));
  const groups = groupByDestination(rows, (r) => router.read(r.execution_node_id));
  for (const { item, reason } of groups.unavailable) summary.failed.push({ account_id: item.id, code: 'node_unavailable', message: reason });

  const account = (r: (typeof rows)[number]): SyncAccount => ({ account_id: r.id, exchange: r.exchange, sandbox: r.sandbox === 1, credentials: openCredentials(ctx.box, r) });
  const job = { requestId: `sync-${Date.now()}`, logger: ctx.logger };
  await Promise.all(
    [[null, groups.local] as const, ...[...groups.remote.values()].map((g) => [g.node, g.items] as const)].map(async ([node, group]) => {
      if (group.length === 0) return;
      const transport = transportOf(ctx, node);
      const batch = { request_id: undefined, symbols: undefined, accounts: group.map(account) };
      const call = kind === 'balance' ? await transport.syncBalances(batch, job) : await transport.syncPositions(batch, job);
      if (!call.ok) {
        for (const r of group) summary.failed.push({ account_id: r.id, code: 'node_unavailable', message: call.message });
        return;
      }
      for (const result of call.value) {
        const accountId = Number(result.account_id);
        if (!result.success) {
          summary.failed.push({ account_id: accountId, code: result.error?.code ?? 'error', message: result.error?.message ?? '' });
          continue;
        }
        await write(ctx, kind, accountId, result);
        summary.synced++;
      }
    }),
  );
  return summary;
}

/** Replaces an account's rows with what the exchange reported, in one transaction. */
async function write(ctx: CenterContext, kind: Kind, accountId: number, result: BalanceResult | PositionResult): Promise<void> {
  const now = Date.now();
  await transact(ctx.db.kysely, async (trx) => {
    if (kind === 'balance' && 'balances' in result) {
      await trx.deleteFrom('fact_account').where('account_id', '=', accountId).execute();
      if (result.balances.length > 0) {
        await trx.insertInto('fact_account').values(result.balances.map((b) => ({ account_id: accountId, currency: b.currency, total: b.total, free: b.free, used: b.used, synced_at: now }))).execute();
      }
    } else if ('positions' in result) {
      await trx.deleteFrom('fact_position').where('account_id', '=', accountId).execute();
      if (result.positions.length > 0) {
        await trx
          .insertInto('fact_position')
          .values(
            result.positions.map((p) => ({
              account_id: accountId,
              symbol: p.symbol,
              side: p.side,
              contracts: p.contracts,
              entry_price: p.entry_price,
              mark_price: p.mark_price,
              notional: p.notional,
              unrealized_pnl: p.unrealized_pnl,
              leverage: p.leverage,
              liquidation_price: p.liquidation_price,
              margin_mode: p.margin_mode,
              synced_at: now,
              size: Number((p.contracts * (p.contract_size ?? 1)).toPrecision(12)),
            })),
          )
          .execute();
      }
      await trx.updateTable('fact_exchange_account').set({ positions_synced_at: now }).where('id', '=', accountId).execute();
    }
  });
}
