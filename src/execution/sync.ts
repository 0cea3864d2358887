import type { BalanceResult, PositionResult, SyncAccount, SyncBatch } from '../core/wire-sync.js';
import { perAccount, type ReadDeps } from './per-account.js';

/** `POST /api/sync-balance` (docs/design.md R5.2): non-zero balances per account. */
export function syncBalances(batch: SyncBatch, deps: ReadDeps): Promise<BalanceResult[]> {
  return perAccount<SyncAccount, Omit<BalanceResult, 'latency_ms'>>(
    batch.accounts,
    deps,
    async (account) => {
      const trader = await deps.traders.trader(account);
      return { account_id: account.account_id, success: true, balances: await trader.fetchBalances() };
    },
    (account, error) => ({ account_id: account.account_id, success: false, balances: [], error }),
  );
}

/** `POST /api/sync-positions` (docs/design.md R5.2): open positions per account. */
export function syncPositions(batch: SyncBatch, deps: ReadDeps): Promise<PositionResult[]> {
  return perAccount<SyncAccount, Omit<PositionResult, 'latency_ms'>>(
    batch.accounts,
    deps,
    async (account) => {
      const trader = await deps.traders.trader(account);
      return { account_id: account.account_id, success: true, positions: await trader.fetchPositions(batch.symbols) };
    },
    (account, error) => ({ account_id: account.account_id, success: false, positions: [], error }),
  );
}
