import { Credentials } from '../core/credentials.js';
import { accountToWire } from '../core/wire-fields.js';
import { SyncBalanceResponseSchema, SyncPositionsResponseSchema, type BalanceResult, type PositionResult } from '../core/wire-sync.js';
import { syncBalances, syncPositions } from '../execution/sync.js';
import type { CenterContext } from './context.js';
import { transact } from './db/connect.js';
import type { NodeRow } from './db/schema.js';
import { nodeAvailability } from './nodes.js';

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
 * Seed §5.2: asks each account's node (or the center itself) for balances
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

  const nodes = new Map<number, NodeRow>();
  for (const n of await k.selectFrom('dim_execution_node').selectAll().execute()) nodes.set(n.id, n);
  const groups = new Map<number | null, typeof rows>();
  for (const r of rows) groups.set(r.execution_node_id, [...(groups.get(r.execution_node_id) ?? []), r]);

  const unseal = (r: (typeof rows)[number]) => ({
    account_id: r.id,
    exchange: r.exchange,
    sandbox: r.sandbox === 1,
    credentials: new Credentials(ctx.box.open(r.api_key_enc, 'api_key'), ctx.box.open(r.api_secret_enc, 'api_secret'), r.passphrase_enc ? ctx.box.open(r.passphrase_enc, 'passphrase') : undefined),
  });

  await Promise.all(
    [...groups.entries()].map(async ([nodeId, group]) => {
      let results: Array<BalanceResult | PositionResult>;
      if (nodeId === null) {
        const batch = { request_id: undefined, symbols: undefined, accounts: group.map(unseal) };
        results = kind === 'balance' ? await syncBalances(batch, ctx.local) : await syncPositions(batch, ctx.local);
      } else {
        const node = nodes.get(nodeId);
        const fail = (message: string) => group.forEach((r) => summary.failed.push({ account_id: r.id, code: 'node_unavailable', message }));
        if (!node || !nodeAvailability(node, Date.now(), ctx.config.node_heartbeat_timeout).online) return fail(`node ${node?.node_code ?? nodeId} is not available`);
        const accounts = group.map((r) => accountToWire(unseal(r)));
        const path = kind === 'balance' ? '/api/sync-balance' : '/api/sync-positions';
        const schema = kind === 'balance' ? SyncBalanceResponseSchema : SyncPositionsResponseSchema;
        const call = await ctx.nodes.post(node, path, { accounts }, schema, `sync-${Date.now()}`);
        if (!call.ok) return fail(call.message);
        results = call.value.results;
      }
      for (const result of results) {
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
            })),
          )
          .execute();
      }
    }
  });
}
