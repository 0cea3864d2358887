import type { Hono } from 'hono';
import * as v from 'valibot';
import { parseWith } from '../../core/validation.js';
import { SignalSchema } from '../../core/wire-execute.js';
import { HttpError, invalidRequest } from '../../http/errors.js';
import { readBody, readJsonObject } from '../../http/read-body.js';
import { inBackground, type CenterContext } from '../context.js';
import { acceptSignal, SignalError } from '../dispatch/accept.js';
import { dispatchAccepted, newSignalId } from '../dispatch/dispatcher.js';
import { signalFieldsView } from '../db/signal-rows.js';
import { syncAccounts } from '../sync.js';
import { idParam, input, iso, MAX_BODY, notFound, type CenterEnv } from './env.js';
import { legView, orderView, protectiveView, slowestStages } from './views.js';

const SyncFilter = v.object({
  account_ids: v.optional(v.pipe(v.array(v.pipe(v.number('expected account ids'), v.safeInteger('expected account ids'), v.minValue(1))), v.maxLength(10_000))),
  node_code: v.optional(v.string('expected a node_code')),
});

/** Signals in, per-account outcomes out (docs/design.md R4), and balance / position sync (docs/design.md R5.2). */
export function signalRoutes(app: Hono<CenterEnv>, ctx: CenterContext): void {
  const k = ctx.db.kysely;

  async function signalView(signalId: string) {
    const signal = await k.selectFrom('fact_signal').selectAll().where('signal_id', '=', signalId).executeTakeFirst();
    if (!signal) throw notFound(`signal "${signalId}"`);
    const strategy = await k.selectFrom('dim_strategy').select('strategy_code').where('id', '=', signal.strategy_id).executeTakeFirst();
    const orders = await k
      .selectFrom('fact_order as o')
      .leftJoin('dim_execution_node as n', 'n.id', 'o.execution_node_id')
      .selectAll('o')
      .select('n.node_code')
      .where('o.signal_row_id', '=', signal.id)
      .orderBy('o.account_id')
      .execute();
    const summary: Record<string, number> = {};
    for (const o of orders) summary[o.status] = (summary[o.status] ?? 0) + 1;
    // An action's closing orders, with the order they belong to (none for an open).
    const legs = signal.action === 'open' || orders.length === 0 ? [] : await k.selectFrom('fact_order_leg').selectAll().where('order_id', 'in', orders.map((o) => o.id)).orderBy('id').execute();
    // The stop-losses and take-profits each order's requests placed (and what became of them).
    const guards = orders.length === 0 ? [] : await k.selectFrom('fact_protective_order').selectAll().where('order_id', 'in', orders.map((o) => o.id)).orderBy('id').execute();
    const views = orders.map(({ node_code, ...o }) => {
      const view = orderView(o, signal, node_code);
      const mine = legs.filter((l) => l.order_id === o.id);
      const placed = guards.filter((g) => g.order_id === o.id);
      return { ...view, ...(mine.length > 0 ? { legs: mine.map(legView) } : {}), ...(placed.length > 0 ? { protective_orders: placed.map(protectiveView) } : {}) };
    });
    return {
      ...signalFieldsView(signal),
      strategy_code: strategy?.strategy_code ?? null,
      status: signal.status,
      request_id: signal.request_id,
      accepted_at: iso(signal.accepted_at),
      dispatched_at: iso(signal.dispatched_at),
      completed_at: iso(signal.completed_at),
      latency_ms: {
        accepted_to_dispatched: signal.dispatched_at === null ? null : signal.dispatched_at - signal.accepted_at,
        accepted_to_completed: signal.completed_at === null ? null : signal.completed_at - signal.accepted_at,
      },
      stages_ms: slowestStages(views.map((o) => o.stages_ms)),
      summary,
      orders: views,
    };
  }

  const pendingCount = async (signalRowId: number) =>
    Number((await k.selectFrom('fact_order').select(({ fn }) => fn.countAll<number>().as('n')).where('signal_row_id', '=', signalRowId).where('status', '=', 'pending').executeTakeFirstOrThrow()).n);

  app.post('/api/signals', async (c) => {
    const body = await readJsonObject(c, MAX_BODY);
    const strategyCode = body['strategy_code'];
    if (typeof strategyCode !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(strategyCode)) {
      throw new HttpError(400, 'invalid_request', 'strategy_code: expected the code of a strategy', [{ field: 'strategy_code', message: 'expected the code of a strategy' }]);
    }
    const parsed = parseWith(SignalSchema, { ...body, signal_id: body['signal_id'] ?? newSignalId() });
    if (!parsed.ok) throw invalidRequest(parsed.issues);
    let accepted;
    try {
      accepted = await acceptSignal(ctx, strategyCode, parsed.value, c.get('requestId'));
    } catch (error) {
      if (error instanceof SignalError) throw new HttpError(error.status, error.status === 404 ? 'not_found' : 'conflict', error.message);
      throw error;
    }
    const { signal, duplicate, orderIds } = accepted;
    ctx.metrics.signal(duplicate ? 'duplicate' : 'accepted');
    const dispatching = duplicate || orderIds.length === 0 ? Promise.resolve() : inBackground(ctx, `dispatch ${signal.signal_id}`, () => dispatchAccepted(ctx, accepted));
    c.get('log').info({ signal_id: signal.signal_id, strategy_code: strategyCode, orders: orderIds.length, duplicate }, duplicate ? 'signal already accepted' : 'signal accepted');
    // ?wait=true answers once every order has its result (for curl and demos).
    if (c.req.query('wait') === 'true') {
      await dispatching;
      // In queue mode the workers answer; wait for them a bounded time.
      const deadline = Date.now() + ctx.config.node_request_timeout + 5000;
      while (Date.now() < deadline && (await pendingCount(signal.id)) > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      return c.json({ success: true, duplicate, signal: await signalView(signal.signal_id) }, duplicate ? 200 : 201);
    }
    return c.json({ success: true, duplicate, signal_id: signal.signal_id, status: signal.status, orders: orderIds.length }, duplicate ? 200 : 202);
  });

  app.get('/api/signals/:id', async (c) => c.json({ success: true, signal: await signalView(c.req.param('id')) }));

  app.get('/api/signals', async (c) => {
    const limit = Math.min(500, Math.max(1, Number(c.req.query('limit') ?? 50) || 50));
    const rows = await k.selectFrom('fact_signal').select(['signal_id', 'symbol', 'side', 'status', 'accepted_at']).orderBy('id', 'desc').limit(limit).execute();
    return c.json({ success: true, signals: rows.map((r) => ({ ...r, accepted_at: iso(r.accepted_at) })) });
  });

  for (const [path, kind] of [['/api/sync/balance', 'balance'], ['/api/sync/positions', 'positions']] as const) {
    app.post(path, async (c) => {
      const filter = (await readBody(c, MAX_BODY)).trim() === '' ? {} : await input(c, SyncFilter);
      const summary = await syncAccounts(ctx, kind, filter);
      return c.json({ success: true, ...summary });
    });
  }

  // Queue mode (docs/design.md R4.5): depth, jobs taken but not acknowledged, redeliveries, dead letters, fallbacks.
  app.get('/api/queue', async (c) => {
    if (!ctx.queue) return c.json({ success: true, enabled: false });
    try {
      return c.json({ success: true, enabled: true, available: true, ...(await ctx.queue.stats()) });
    } catch (error) {
      return c.json({ success: true, enabled: true, available: false, reason: (error as Error).message, ...ctx.queue.counters });
    }
  });

  app.get('/api/accounts/:id/balances', async (c) => {
    const id = idParam(c, 'id');
    const rows = await k.selectFrom('fact_account').selectAll().where('account_id', '=', id).orderBy('currency').execute();
    return c.json({ success: true, balances: rows.map((r) => ({ currency: r.currency, total: r.total, free: r.free, used: r.used, synced_at: iso(r.synced_at) })) });
  });

  app.get('/api/accounts/:id/positions', async (c) => {
    const id = idParam(c, 'id');
    const rows = await k.selectFrom('fact_position').selectAll().where('account_id', '=', id).orderBy('symbol').execute();
    return c.json({ success: true, positions: rows.map(({ id: _id, account_id: _a, synced_at, ...p }) => ({ ...p, synced_at: iso(synced_at) })) });
  });
}
