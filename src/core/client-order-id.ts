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
