import { createHash } from 'node:crypto';

/**
 * Client order ids are what make orders exactly-once: the center assigns one
 * per (signal, account) before dispatch, every retry reuses it, and a node
 * can always ask the exchange "does this id exist?".
 *
 * Alphanumeric only and at most 30 characters, so the id is valid on every
 * major exchange (OKX allows letters and digits up to 32, Binance up to 36)
 * and still leaves room for the two-character protection-order suffixes.
 */
export const CLIENT_ORDER_ID_PATTERN = /^[A-Za-z0-9]{1,30}$/;
export const CLIENT_ORDER_ID_MAX = 30;

const PREFIX = 'tc';

/**
 * The deterministic entry-order id of one account's order for one signal.
 * Same inputs, same id: a repeated or replayed dispatch can never mint a new
 * one.
 *
 * ```ts
 * clientOrderIdFor('sig-42', 101); // 'tc' + 24 hex characters
 * ```
 */
export function clientOrderIdFor(signalId: string | number, accountId: string | number): string {
  const digest = createHash('sha256').update(`${String(signalId)}\u0000${String(accountId)}`).digest('hex');
  return PREFIX + digest.slice(0, 24);
}

export type ProtectionLeg = 'stop_loss' | 'take_profit';

const LEG_SUFFIX: Record<ProtectionLeg, string> = { stop_loss: 'SL', take_profit: 'TP' };

/** The id of the stop-loss or take-profit order that protects an entry. */
export function protectionOrderId(entryClientOrderId: string, leg: ProtectionLeg): string {
  return entryClientOrderId + LEG_SUFFIX[leg];
}

/**
 * The id of an order an action places beside (or instead of) an entry, so
 * that each action's every leg is exactly-once too: the same inputs always
 * give the same id, and it has the shape of a protection id (`tc` + 24 hex +
 * a two-character suffix), so it is recognised as tradectl's and its kind is
 * read from the suffix.
 *
 * - `close`: the reduce-only order closing (part of) one position side.
 * - `stop_loss` / `take_profit`: a protective order for one position side,
 *   new (update_protection) or resized from an earlier one (`from`).
 */
export function actionOrderId(entryClientOrderId: string, role: 'close' | ProtectionLeg, positionSide: 'long' | 'short', from = ''): string {
  const digest = createHash('sha256').update(`${entryClientOrderId}\u0000${role}\u0000${positionSide}\u0000${from}`).digest('hex');
  const suffix = role === 'close' ? (positionSide === 'long' ? 'XL' : 'XS') : LEG_SUFFIX[role];
  return PREFIX + digest.slice(0, 24) + suffix;
}

const TRADECTL_ID = /^tc[0-9a-f]{24}(SL|TP|XL|XS)?$/;

/**
 * What a client order id says about an order: whether tradectl placed it,
 * and as which kind. Orders of other ids (placed by hand, by another tool)
 * are never touched by an action.
 */
export function orderIdKind(clientOrderId: string | null): 'entry' | 'close' | ProtectionLeg | null {
  const match = clientOrderId === null ? null : TRADECTL_ID.exec(clientOrderId);
  if (!match) return null;
  const suffix = match[1];
  if (suffix === 'SL') return 'stop_loss';
  if (suffix === 'TP') return 'take_profit';
  if (suffix === 'XL' || suffix === 'XS') return 'close';
  return 'entry';
}
