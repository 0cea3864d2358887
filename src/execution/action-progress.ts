import type { ProtectionLeg } from '../core/client-order-id.js';
import type { ErrorBody } from '../core/error-codes.js';
import type { ExchangeFailure } from '../exchange/exchange-failure.js';
import type { OrderSnapshot, RestingOrder } from '../exchange/trader.js';
import type { AccountProgress } from './execute-progress.js';

export type PositionSide = 'long' | 'short';

/**
 * What an action (close, reduce, reverse, update_protection, cancel) had
 * done on one account so far, step by step. As with an open, the result is
 * built from it at the moment of answering, so a step that was sent when the
 * deadline passed is reported as possibly done, never as not done.
 */
export interface ActionProgress {
  /** Set at the deadline: nothing new is sent after this. */
  abandoned: boolean;
  /** `reading`: positions and resting orders are being read, nothing sent yet. */
  phase: 'waiting' | 'after_earlier' | 'reading' | 'working' | 'done';
  /** The action could not start (no trader, the account's state could not be read): nothing was sent. */
  failure?: ExchangeFailure;
  closes: CloseStep[];
  protection: ProtectionStep[];
  canceled: CancelStep[];
  /** reverse: the new position's entry, once the old side is closed. */
  open?: AccountProgress;
  /** reverse: why the new side was not opened. */
  notOpened?: ErrorBody;
  /** As the trader last sent the account's orders (`Trader.positionMode`). */
  positionMode?: 'one_way' | 'hedge';
  turnAt?: number;
  /** When the first order's outcome was known (the close, or a reverse's entry). */
  entryDoneAt?: number;
}

/** One reduce-only order closing all or part of one position side. */
export interface CloseStep {
  positionSide: PositionSide;
  clientOrderId: string;
  /** The side's size when it was read (base currency). */
  before: number;
  phase: 'sending' | 'done';
  order?: OrderSnapshot;
  deduplicated?: boolean;
  error?: ErrorBody;
}

/** A protective order placed for one position side: new, or resized from the orders it `replaces`. */
export interface ProtectionStep {
  positionSide: PositionSide;
  leg: ProtectionLeg;
  clientOrderId: string;
  amount: number;
  triggerPrice: number;
  /** Cancelled once this one exists (or first, where the exchange refuses the two side by side). */
  replaces: RestingOrder[];
  phase: 'pending' | 'sending' | 'done';
  order?: OrderSnapshot;
  error?: ErrorBody;
}

export interface CancelStep {
  order: RestingOrder;
  kind: 'entry' | 'close' | ProtectionLeg;
  positionSide: PositionSide | null;
  phase: 'sending' | 'done';
  /** The exchange no longer had it open (filled, triggered or cancelled meanwhile). */
  gone?: boolean;
  error?: ErrorBody;
}

export function newActionProgress(): ActionProgress {
  return { abandoned: false, phase: 'waiting', closes: [], protection: [], canceled: [] };
}
