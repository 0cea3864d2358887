import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLIENT_ORDER_ID_PATTERN, clientOrderIdFor, protectionOrderId } from '../../src/core/client-order-id.js';

test('the client order id is deterministic per (signal, account) and distinct otherwise', () => {
  const id = clientOrderIdFor('sig-1', 101);
  assert.equal(id, clientOrderIdFor('sig-1', 101));
  assert.equal(id, clientOrderIdFor('sig-1', '101'), 'numeric and string account ids are the same account');
  assert.notEqual(id, clientOrderIdFor('sig-1', 102));
  assert.notEqual(id, clientOrderIdFor('sig-2', 101));
  assert.notEqual(clientOrderIdFor('a', 'bc'), clientOrderIdFor('ab', 'c'), 'the separator keeps fields apart');
});

test('entry and protection ids are valid on every major exchange', () => {
  for (let i = 0; i < 200; i++) {
    const id = clientOrderIdFor(`signal-${i}`, i);
    assert.match(id, CLIENT_ORDER_ID_PATTERN);
    for (const leg of ['stop_loss', 'take_profit'] as const) {
      const p = protectionOrderId(id, leg);
      // OKX: 1-32 letters/digits; Binance: up to 36 of [.A-Z:/a-z0-9_-]
      assert.match(p, /^[A-Za-z0-9]{1,32}$/);
      assert.notEqual(p, id);
    }
  }
  assert.notEqual(protectionOrderId('abc', 'stop_loss'), protectionOrderId('abc', 'take_profit'));
});
