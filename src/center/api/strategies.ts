import type { Hono } from 'hono';
import * as v from 'valibot';
import type { CenterContext } from '../context.js';
import { isUniqueViolation } from '../db/connect.js';
import { conflict, idParam, input, iso, notFound, type CenterEnv } from './env.js';
import { invalidRequest } from '../../http/errors.js';
import { MAX_PERCENT, MinSizePolicySchema, PERCENT_MODES, SizingModeSchema, type SizingMode } from '../../core/sizing.js';
import { positiveDecimal } from '../../core/wire-fields.js';
import type { SizingColumns } from '../db/schema.js';

const code = v.pipe(v.string('expected a strategy_code'), v.trim(), v.regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1-64 letters, digits or ._-'));
const multiplier = v.pipe(
  v.union([v.number(), v.string()], 'expected a positive decimal'),
  v.transform((x) => Number(x)),
  v.check((n) => Number.isFinite(n) && n > 0 && n <= 1000, 'expected a multiplier above 0 and at most 1000'),
);

/**
 * How followers are sized (issue #20), on a binding and as its strategy's
 * defaults: null or absent = not set here (the strategy's; for a strategy,
 * multiplier sizing, skip, the signal's leverage and margin mode).
 */
const nullable = <S extends v.GenericSchema>(schema: S) => v.optional(v.nullable(schema));
const SizingEntries = {
  sizing: nullable(SizingModeSchema),
  sizing_value: nullable(positiveDecimal('a sizing value: USDT for fixed_notional, a percentage for equity_percent and risk_percent')),
  min_size: nullable(MinSizePolicySchema),
  max_position_notional: nullable(positiveDecimal('a notional cap in USDT')),
  leverage: nullable(v.pipe(v.number('expected an integer leverage from 1 to 200'), v.integer('expected an integer leverage from 1 to 200'), v.minValue(1, 'expected an integer leverage from 1 to 200'), v.maxValue(200, 'expected an integer leverage from 1 to 200'))),
  margin_mode: nullable(v.pipe(v.string('expected "cross" or "isolated"'), v.toLowerCase(), v.picklist(['cross', 'isolated'], 'expected "cross" or "isolated"'))),
};
type SizingFields = { [K in keyof typeof SizingEntries]?: v.InferOutput<(typeof SizingEntries)[K]> };

/** The mode and its value, as they will be stored: a mode other than multiplier needs a value; a value needs such a mode. */
function sizingProblem(mode: string | null | undefined, value: number | null | undefined): string | undefined {
  const sized = mode !== null && mode !== undefined && mode !== 'multiplier';
  if (sized && (value === null || value === undefined)) return `is required with sizing ${mode}`;
  if (!sized && value !== null && value !== undefined) return mode === 'multiplier' ? 'is not used by the multiplier mode (the multiplier is)' : 'needs a sizing mode (fixed_notional, equity_percent or risk_percent) beside it';
  if (sized && PERCENT_MODES.has(mode as SizingMode) && (value as number) > MAX_PERCENT) return `expected a percentage above 0 and at most ${MAX_PERCENT}`;
  return undefined;
}

const sizingChecked = <T extends SizingFields>(schema: v.GenericSchema<unknown, T>) =>
  v.pipe(
    schema,
    v.rawCheck<T>(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const problem = sizingProblem(dataset.value.sizing, dataset.value.sizing_value);
      if (problem) addIssue({ message: problem, path: [{ type: 'object', origin: 'value', input: dataset.value as unknown as Record<string, unknown>, key: 'sizing_value', value: dataset.value.sizing_value }] });
    }),
  );

const CreateStrategy = sizingChecked(v.object({ strategy_code: code, name: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(128)))), enabled: v.optional(v.boolean(), true), ...SizingEntries }));
const PatchStrategy = v.object({ name: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(128)))), enabled: v.optional(v.boolean()), ...SizingEntries });
const Bind = sizingChecked(
  v.object({ account_id: v.pipe(v.number('expected an account id'), v.safeInteger('expected an account id'), v.minValue(1)), multiplier: v.optional(multiplier, 1), enabled: v.optional(v.boolean(), true), ...SizingEntries }),
);

/** The sizing columns a body sets; with `all`, an absent field clears its column (a binding's POST sets the whole binding). */
function sizingColumns(body: SizingFields, all: boolean): Partial<SizingColumns> {
  const out: Partial<SizingColumns> = {};
  const put = <K extends keyof SizingColumns>(key: K, value: SizingColumns[K] | undefined) => {
    if (value !== undefined || all) out[key] = (value ?? null) as SizingColumns[K];
  };
  const text = (x: number | null | undefined) => (x === undefined ? undefined : x === null ? null : String(x));
  put('sizing', body.sizing);
  put('sizing_value', text(body.sizing_value));
  put('min_size', body.min_size);
  put('max_position_notional', text(body.max_position_notional));
  put('leverage', body.leverage);
  put('margin_mode', body.margin_mode);
  return out;
}

function sizingView(row: SizingColumns) {
  return {
    sizing: row.sizing,
    sizing_value: row.sizing_value === null ? null : Number(row.sizing_value),
    min_size: row.min_size,
    max_position_notional: row.max_position_notional === null ? null : Number(row.max_position_notional),
    leverage: row.leverage,
    margin_mode: row.margin_mode,
  };
}

/** Strategies and their bindings to accounts (docs/design.md R4: strategy → targets). */
export function strategyRoutes(app: Hono<CenterEnv>, ctx: CenterContext): void {
  const k = ctx.db.kysely;
  const load = async (strategyCode: string) => {
    const strategy = await k.selectFrom('dim_strategy').selectAll().where('strategy_code', '=', strategyCode).executeTakeFirst();
    if (!strategy) throw notFound(`strategy "${strategyCode}"`);
    return strategy;
  };
  const view = async (strategyCode: string) => {
    const s = await load(strategyCode);
    const bindings = await k.selectFrom('dim_strategy_binding').selectAll().where('strategy_id', '=', s.id).orderBy('account_id').execute();
    return {
      id: s.id,
      strategy_code: s.strategy_code,
      name: s.name,
      enabled: s.enabled === 1,
      ...sizingView(s),
      created_at: iso(s.created_at),
      bindings: bindings.map((b) => ({ id: b.id, account_id: b.account_id, multiplier: Number(b.multiplier), enabled: b.enabled === 1, ...sizingView(b) })),
    };
  };

  app.post('/api/strategies', async (c) => {
    const body = await input(c, CreateStrategy);
    try {
      await k.insertInto('dim_strategy').values({ strategy_code: body.strategy_code, name: body.name ?? null, enabled: body.enabled ? 1 : 0, created_at: Date.now(), ...sizingColumns(body, true) }).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`strategy_code "${body.strategy_code}" already exists`);
      throw error;
    }
    return c.json({ success: true, strategy: await view(body.strategy_code) }, 201);
  });

  app.get('/api/strategies', async (c) => {
    const rows = await k.selectFrom('dim_strategy').select('strategy_code').orderBy('strategy_code').execute();
    return c.json({ success: true, strategies: await Promise.all(rows.map((r) => view(r.strategy_code))) });
  });

  app.get('/api/strategies/:code', async (c) => c.json({ success: true, strategy: await view(c.req.param('code')) }));

  app.patch('/api/strategies/:code', async (c) => {
    const strategyCode = c.req.param('code');
    const body = await input(c, PatchStrategy);
    const set: { name?: string | null; enabled?: number } & Partial<SizingColumns> = sizingColumns(body, false);
    if (body.name !== undefined) set.name = body.name;
    if (body.enabled !== undefined) set.enabled = body.enabled ? 1 : 0;
    const strategy = await load(strategyCode);
    // A patch may change the mode or the value alone: what they will be together must still hold.
    const problem = sizingProblem(set.sizing !== undefined ? set.sizing : strategy.sizing, set.sizing_value !== undefined ? (set.sizing_value === null ? null : Number(set.sizing_value)) : strategy.sizing_value === null ? null : Number(strategy.sizing_value));
    if (problem) throw invalidRequest([{ field: 'sizing_value', message: problem }]);
    if (Object.keys(set).length > 0) await k.updateTable('dim_strategy').set(set).where('id', '=', strategy.id).execute();
    return c.json({ success: true, strategy: await view(strategyCode) });
  });

  // Bind an account (or update its multiplier): idempotent per (strategy, account).
  app.post('/api/strategies/:code/bindings', async (c) => {
    const strategy = await load(c.req.param('code'));
    const body = await input(c, Bind);
    const account = await k.selectFrom('fact_exchange_account').select('id').where('id', '=', body.account_id).executeTakeFirst();
    if (!account) throw notFound(`account ${body.account_id}`);
    const values = { multiplier: String(body.multiplier), enabled: body.enabled ? 1 : 0, ...sizingColumns(body, true) };
    const updated = await k.updateTable('dim_strategy_binding').set(values).where('strategy_id', '=', strategy.id).where('account_id', '=', body.account_id).executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) {
      try {
        await k.insertInto('dim_strategy_binding').values({ strategy_id: strategy.id, account_id: body.account_id, ...values, created_at: Date.now() }).execute();
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
    }
    return c.json({ success: true, strategy: await view(strategy.strategy_code) }, 201);
  });

  app.delete('/api/strategies/:code/bindings/:account_id', async (c) => {
    const strategy = await load(c.req.param('code'));
    const accountId = idParam(c, 'account_id');
    const result = await k.deleteFrom('dim_strategy_binding').where('strategy_id', '=', strategy.id).where('account_id', '=', accountId).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound(`binding of account ${accountId}`);
    return c.json({ success: true, strategy: await view(strategy.strategy_code) });
  });
}
