import type { Insertable } from 'kysely';
import type { Signal } from '../../core/wire-execute.js';
import type { SignalRow, SignalTable } from './schema.js';

/**
 * The one mapping between a `Signal` and its `fact_signal` columns, used by
 * acceptance, dispatch, the reconciler, the queue worker and the views.
 * `reduce_only` was once dropped because this mapping was written three
 * times; the table below is checked by the compiler to name every field of
 * the signal schema, so a new field cannot be stored on one path and lost
 * on another.
 */
type Column<K extends keyof Signal & keyof SignalRow> = {
  write(value: Signal[K]): SignalRow[K];
  read(value: SignalRow[K]): Signal[K];
};

const decimal = {
  write: (x: number) => String(x),
  read: (x: string) => Number(x),
};
const optionalDecimal = {
  write: (x: number | undefined) => (x === undefined ? null : String(x)),
  read: (x: string | null) => (x === null ? undefined : Number(x)),
};
const text = <T extends string>() => ({ write: (x: T) => x as string, read: (x: string) => x as T });

const COLUMNS: { [K in keyof Signal]-?: Column<K> } = {
  // An integer id is stored (and sent on) as its decimal text; client order ids derive from that text either way.
  signal_id: { write: (x) => String(x), read: (x) => x },
  symbol: text<string>(),
  // No side or quantity (a close, a cancel) is stored as '' and '0', which no open can hold (migration 0008).
  side: { write: (x) => x ?? '', read: (x) => (x === '' ? undefined : (x as Signal['side'])) },
  quantity: { write: (x) => (x === undefined ? '0' : String(x)), read: (x) => (x === '0' ? undefined : Number(x)) },
  order_type: text<Signal['order_type']>(),
  price: optionalDecimal,
  stop_loss: optionalDecimal,
  take_profit: optionalDecimal,
  leverage: { write: (x) => x ?? null, read: (x) => x ?? undefined },
  reduce_only: { write: (x) => (x ? 1 : 0), read: (x) => x === 1 },
  margin_mode: { write: (x) => x ?? null, read: (x) => (x ?? undefined) as Signal['margin_mode'] },
  action: { write: (x) => x, read: (x) => x as Signal['action'] },
  position_side: { write: (x) => x ?? null, read: (x) => (x ?? undefined) as Signal['position_side'] },
  close_fraction: optionalDecimal,
  cancel: { write: (x) => x ?? null, read: (x) => (x ?? undefined) as Signal['cancel'] },
};

const FIELDS = Object.keys(COLUMNS) as Array<keyof Signal>;

type SignalColumns = Pick<Insertable<SignalTable>, keyof Signal>;

/** The columns that hold `signal`. */
export function signalColumns(signal: Signal): SignalColumns {
  const out: Partial<Record<keyof Signal, unknown>> = {};
  for (const field of FIELDS) out[field] = (COLUMNS[field] as Column<typeof field>).write(signal[field] as never);
  return out as SignalColumns;
}

/** The signal a `fact_signal` row holds, as the node's parser would produce it. */
export function signalOfRow(row: SignalRow): Signal {
  const out: Partial<Record<keyof Signal, unknown>> = {};
  for (const field of FIELDS) out[field] = (COLUMNS[field] as Column<typeof field>).read(row[field] as never);
  return out as Signal;
}

/** The signal's fields as the data API shows them: every field, `null` where not set. */
export function signalFieldsView(row: SignalRow): { [K in keyof Signal]-?: Exclude<Signal[K], undefined> | null } {
  const signal = signalOfRow(row);
  return Object.fromEntries(FIELDS.map((field) => [field, signal[field] ?? null])) as { [K in keyof Signal]-?: Exclude<Signal[K], undefined> | null };
}
