import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as v from 'valibot';
import { ExecuteRequestSchema, SignalSchema } from '../../src/core/wire-execute.js';
import { startHarness, type CallResult, type Harness } from '../helpers/node-harness.js';

/**
 * Each action takes its own fields; a signal that mixes them up is refused
 * with a 400 naming the field, before anything reaches an exchange.
 */

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h?.close());

let n = 0;
const signal = (fields: Record<string, unknown>) => ({ signal_id: `act-input-${++n}`, symbol: 'BTC/USDT:USDT', ...fields });

function refused(res: CallResult, field: string, message: RegExp) {
  assert.equal(res.status, 400, res.text);
  assert.equal(res.body.error.code, 'invalid_request', res.text);
  assert.equal(res.body.error.field, field, res.text);
  assert.match(res.body.error.message, message, res.text);
}

const BAD: Array<[string, Record<string, unknown>, string, RegExp]> = [
  ['a close with a quantity', { action: 'close', quantity: 0.01 }, 'signal.quantity', /not used by this action/],
  ['a reduce with a quantity and a fraction', { action: 'reduce', quantity: 0.01, close_fraction: 0.5 }, 'signal.quantity', /either quantity or close_fraction/],
  ['a reduce with neither', { action: 'reduce' }, 'signal.quantity', /either quantity or close_fraction/],
  ['a fraction above 1', { action: 'reduce', close_fraction: 1.5 }, 'signal.close_fraction', /at most 1/],
  ['a fraction of 0', { action: 'reduce', close_fraction: 0 }, 'signal.close_fraction', /greater than 0/],
  ['update_protection with neither price', { action: 'update_protection' }, 'signal.stop_loss', /needs stop_loss, take_profit or both/],
  ['update_protection with a quantity', { action: 'update_protection', stop_loss: 59000, quantity: 1 }, 'signal.quantity', /not used by this action/],
  ['a stop above the take-profit of a long', { action: 'update_protection', position_side: 'long', stop_loss: 64000, take_profit: 62000 }, 'signal.stop_loss', /below take_profit for a long/],
  ['a close whose side disagrees with its position side', { action: 'close', side: 'buy', position_side: 'long' }, 'signal.position_side', /disagrees with side/],
  ['a reverse without a side', { action: 'reverse', quantity: 0.01 }, 'signal.side', /is required/],
  ['a reverse without a quantity', { action: 'reverse', side: 'sell' }, 'signal.quantity', /is required/],
  ['an open without a side', { quantity: 0.01 }, 'signal.side', /is required/],
  ['an unknown action', { action: 'flip', side: 'buy', quantity: 0.01 }, 'signal.action', /expected one of open, close/],
  ['a cancel with an unknown scope', { action: 'cancel', cancel: 'everything' }, 'signal.cancel', /entries", "protection" or "all/],
  ['a cancel with a stop-loss', { action: 'cancel', stop_loss: 59000 }, 'signal.stop_loss', /not used by this action/],
  ['a limit close', { action: 'close', order_type: 'limit', price: 60000 }, 'signal.order_type', /not used by this action/],
  ['a close with leverage', { action: 'close', leverage: 5 }, 'signal.leverage', /not used by this action/],
  ['a position side on an open', { side: 'buy', quantity: 0.01, position_side: 'long' }, 'signal.position_side', /not used by this action/],
];

for (const [what, fields, field, message] of BAD) {
  test(`refused: ${what}`, async () => {
    refused(await h.post('/api/execute', { signal: signal(fields), accounts: [h.account(1)] }), field, message);
  });
}

test('a close names no per-account quantity: each account is sized from its own position', async () => {
  const res = await h.post('/api/execute', { signal: signal({ action: 'close' }), accounts: [{ ...h.account(1), quantity: 0.5 }] });
  refused(res, 'accounts[0].quantity', /sized from each account's position/);
});

test("an original deployment's open (no action) is still an open", () => {
  const parsed = v.parse(SignalSchema, { signal_id: 7, symbol: 'BTC/USDT:USDT', side: 'BUY', quantity: '0.01', stop_loss: 0, take_profit: null });
  assert.equal(parsed.action, 'open');
  assert.equal(parsed.side, 'buy');
  assert.equal(parsed.quantity, 0.01);
});

test('a reduce by quantity scales per account; a reduce by fraction is the same share for every follower', () => {
  const byQuantity = v.parse(ExecuteRequestSchema, { signal: signal({ action: 'reduce', quantity: 0.02 }), accounts: [{ ...h.account(1), quantity: 0.04 }, h.account(2)] });
  assert.deepEqual(byQuantity.accounts.map((a) => a.quantity), [0.04, 0.02]);
  const byFraction = v.parse(ExecuteRequestSchema, { signal: signal({ action: 'reduce', close_fraction: 0.5 }), accounts: [h.account(1), h.account(2)] });
  assert.deepEqual(byFraction.accounts.map((a) => a.quantity), [undefined, undefined]);
});
