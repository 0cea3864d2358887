import * as v from 'valibot';
import { SizingSpecSchema, sizingSpecToWire, type MinSizePolicy, type SizingMode, type SizingSpec } from '../../core/sizing.js';
import type { Signal } from '../../core/wire-execute.js';
import type { SizingColumns } from '../db/schema.js';

/** One follower's order as its binding sizes it. */
export interface BindingOrder {
  /** The quantity the center sends; undefined for a node-sized open and for actions sized from the position. */
  quantity: number | undefined;
  /** Sent with the order (and stored on it) when the node sizes it, or caps or rounds up a multiplier's quantity. */
  sizing: SizingSpec | undefined;
  leverage: number | undefined;
  marginMode: 'cross' | 'isolated' | undefined;
  /** Why the account is recorded `skipped` instead of sent. */
  refusal?: { code: string; message: string };
}

/**
 * What a binding sends for a signal. A field the binding leaves unset is its
 * strategy's; `sizing_value` goes with the mode it is set beside (a binding
 * that names its own mode takes its own value). Only an open and a
 * reverse's new side are sized and levered: a reduce by quantity is scaled
 * by the multiplier as before, and the other actions are sized from each
 * account's live position.
 */
export function bindingOrder(signal: Signal, multiplier: string, binding: SizingColumns, strategy: SizingColumns): BindingOrder {
  const scaled = signal.quantity === undefined ? undefined : Number((signal.quantity * Number(multiplier)).toPrecision(12));
  if (signal.action !== 'open' && signal.action !== 'reverse') return { quantity: scaled, sizing: undefined, leverage: undefined, marginMode: undefined };
  const own = binding.sizing !== null;
  const mode = (binding.sizing ?? strategy.sizing ?? 'multiplier') as SizingMode;
  const value = own ? binding.sizing_value : strategy.sizing_value;
  const minSize = (binding.min_size ?? strategy.min_size ?? 'skip') as MinSizePolicy;
  const cap = binding.max_position_notional ?? strategy.max_position_notional;
  const leverage = binding.leverage ?? strategy.leverage ?? undefined;
  const marginMode = (binding.margin_mode ?? strategy.margin_mode ?? undefined) as 'cross' | 'isolated' | undefined;
  // A multiplier binding without a cap or round_up sends what it always sent: the quantity alone.
  if (mode === 'multiplier' && minSize === 'skip' && cap === null) return { quantity: scaled, sizing: undefined, leverage, marginMode };
  const spec = v.parse(SizingSpecSchema, { mode, ...(mode === 'multiplier' ? {} : { value }), min_size: minSize, ...(cap === null ? {} : { max_notional: cap }) });
  const order: BindingOrder = { quantity: mode === 'multiplier' ? scaled : undefined, sizing: spec, leverage, marginMode };
  if (mode === 'risk_percent' && signal.stop_loss === undefined) {
    order.refusal = { code: 'stop_loss_required', message: 'the binding sizes by risk_percent (equity lost if the stop-loss hits) and the signal has no stop_loss; nothing was sent' };
  }
  return order;
}

/** The spec as stored on an order: the wire JSON it is sent as. */
export function sizingColumn(spec: SizingSpec | undefined): string | null {
  return spec ? JSON.stringify(sizingSpecToWire(spec)) : null;
}

/** An order's stored spec, read back through the wire schema (one shape, one parser). */
export function sizingOfColumn(text: string | null): SizingSpec | undefined {
  return text === null ? undefined : v.parse(SizingSpecSchema, JSON.parse(text));
}
