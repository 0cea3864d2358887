import type { Insertable, Kysely } from 'kysely';
import { insertRows, updateRowsById } from '../db/bulk-writes.js';
import type { Database, RealisedPnlTable } from '../db/schema.js';

export type PositionSide = 'long' | 'short';

/** What one new fill does to its account's position on its symbol. */
export type FillEffect =
  /** Adds to `side`; `nets`: a one-way account, where it first closes what the other side holds. */
  | { kind: 'open'; side: PositionSide; nets: boolean }
  | { kind: 'close'; side: PositionSide };

export interface BookedFill {
  orderId: number;
  /** The fill's settlement key: unique per fill, so its realised row is too. */
  fillKey: string;
  accountId: number;
  userId: number;
  symbol: string;
  effect: FillEffect;
  /** Base currency, and the increment's average price. */
  quantity: number;
  price: number;
  /** The quote-currency fee charged for this increment (its share of the order's). */
  fee: number;
}

interface Held {
  id: number | undefined;
  quantity: number;
  entry: number | null;
  /** Quote-currency fees paid opening what is held, not yet charged to a close. */
  entryFees: number;
  realised: number;
  changed: boolean;
}

const clean = (x: number) => Number(x.toPrecision(12));
/** Quote-currency amounts, to 1e-8 (what settlement's units hold). */
const money = (x: number) => String(Number(x.toFixed(8)));

/**
 * Books fills into each follower's position (`fact_follower_position`) and
 * what each closing fill realised (`fact_realised_pnl`): opening fills move
 * the average entry and add their fee to what the position paid to open;
 * closing fills realise (exit − entry) × quantity (the other way for a
 * short) less their own fee and the entry fees of what they closed, in
 * proportion, so a round trip's realised PnL counts both sides' fees. Runs in the transaction that
 * inserts the fills, whose unique keys make a replay book nothing. A close
 * beyond what tradectl booked (a position opened by hand) realises only
 * what tradectl holds; the rest shows as drift against the exchange.
 */
export async function bookFills(trx: Kysely<Database>, fills: readonly BookedFill[], now: number): Promise<void> {
  if (fills.length === 0) return;
  const accountIds = [...new Set(fills.map((f) => f.accountId))];
  const symbols = [...new Set(fills.map((f) => f.symbol))];
  const rows = await trx.selectFrom('fact_follower_position').selectAll().where('account_id', 'in', accountIds).where('symbol', 'in', symbols).execute();
  const book = new Map<string, Held>(
    rows.map((r) => [
      `${r.account_id}|${r.symbol}|${r.side}`,
      { id: r.id, quantity: Number(r.quantity), entry: r.entry_price === null ? null : Number(r.entry_price), entryFees: Number(r.entry_fees), realised: Number(r.realised_pnl), changed: false },
    ]),
  );
  const held = (fill: BookedFill, side: PositionSide): Held => {
    const key = `${fill.accountId}|${fill.symbol}|${side}`;
    let h = book.get(key);
    if (!h) {
      h = { id: undefined, quantity: 0, entry: null, entryFees: 0, realised: 0, changed: false };
      book.set(key, h);
    }
    return h;
  };
  const realised: Array<Insertable<RealisedPnlTable>> = [];
  const close = (fill: BookedFill, side: PositionSide, quantity: number, feeShare: number) => {
    const h = held(fill, side);
    const closed = Math.min(quantity, h.quantity);
    if (!(closed > 0) || h.entry === null) return;
    const gross = (fill.price - h.entry) * closed * (side === 'long' ? 1 : -1);
    const entryFee = (h.entryFees * closed) / h.quantity;
    const fee = (fill.fee * closed) / fill.quantity + entryFee;
    realised.push({
      account_id: fill.accountId,
      user_id: fill.userId,
      order_id: fill.orderId,
      fill_key: `${fill.fillKey}${feeShare < 1 ? `:${side}` : ''}`.slice(0, 80),
      symbol: fill.symbol,
      side,
      quantity: String(clean(closed)),
      entry_price: String(h.entry),
      exit_price: String(fill.price),
      gross_pnl: money(gross),
      fee: money(fee),
      entry_fee: money(entryFee),
      net_pnl: money(gross - fee),
      created_at: now,
    });
    h.quantity = clean(h.quantity - closed);
    h.entryFees = Number((h.entryFees - entryFee).toFixed(10));
    h.realised = Number((h.realised + gross - fee).toFixed(8));
    if (h.quantity <= 0) {
      h.quantity = 0;
      h.entry = null;
      h.entryFees = 0;
    }
    h.changed = true;
  };
  const add = (fill: BookedFill, side: PositionSide, quantity: number) => {
    if (!(quantity > 0)) return;
    const h = held(fill, side);
    const total = clean(h.quantity + quantity);
    h.entry = clean(((h.entry ?? 0) * h.quantity + fill.price * quantity) / total);
    h.quantity = total;
    h.entryFees = Number((h.entryFees + (fill.fee * quantity) / fill.quantity).toFixed(10));
    h.changed = true;
  };
  for (const fill of fills) {
    if (fill.effect.kind === 'close') {
      close(fill, fill.effect.side, fill.quantity, 1);
      continue;
    }
    let opening = fill.quantity;
    if (fill.effect.nets) {
      const other: PositionSide = fill.effect.side === 'long' ? 'short' : 'long';
      const against = Math.min(opening, held(fill, other).quantity);
      if (against > 0) {
        close(fill, other, against, against / fill.quantity);
        opening = clean(opening - against);
      }
    }
    add(fill, fill.effect.side, opening);
  }
  const inserts = [...book].filter(([, h]) => h.changed && h.id === undefined);
  const updates = [...book].filter(([, h]) => h.changed && h.id !== undefined);
  const values = (h: Held) => ({ quantity: String(h.quantity), entry_price: h.entry === null ? null : String(h.entry), entry_fees: String(h.entryFees), realised_pnl: String(h.realised), updated_at: now });
  if (inserts.length > 0) {
    await insertRows(
      trx,
      'fact_follower_position',
      inserts.map(([key, h]) => {
        const [account, symbol, side] = key.split('|') as [string, string, string];
        return { account_id: Number(account), symbol, side, ...values(h) };
      }),
    );
  }
  await updateRowsById(trx, 'fact_follower_position', updates.map(([, h]) => ({ id: h.id as number, values: values(h) })));
  if (realised.length > 0) await insertRows(trx, 'fact_realised_pnl', realised);
}
