import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientOrderIdFor } from '../../src/core/client-order-id.js';
import { parseWith } from '../../src/core/validation.js';
import * as v from 'valibot';
import { ExecuteRequestSchema, executeRequestOf } from '../../src/core/wire-execute.js';
import { QueryOrdersRequestSchema, queryOrdersRequestOf } from '../../src/core/wire-query.js';
import { SyncRequestSchema, syncRequestOf } from '../../src/core/wire-sync.js';

const account = { account_id: 101, exchange: 'binanceusdm', api_key: 'key-101', api_secret: 'secret-101' };
const signal = { signal_id: 'sig-1', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 };

test('a seed-style request parses, with defaults and a derived client order id', () => {
  const parsed = parseWith(ExecuteRequestSchema, { signal: { ...signal, stop_loss: 59000, take_profit: null, price: 0 }, accounts: [account] });
  assert.ok(parsed.ok);
  const batch = parsed.value;
  assert.equal(batch.retry, false);
  assert.equal(batch.attempt, 1);
  assert.equal(batch.signal.order_type, 'market');
  assert.equal(batch.signal.take_profit, undefined, 'null means not set');
  assert.equal(batch.signal.price, undefined, '0 means not set');
  assert.equal(batch.signal.reduce_only, false);
  assert.equal(batch.accounts[0]?.client_order_id, clientOrderIdFor('sig-1', 101));
  assert.equal(batch.accounts[0]?.quantity, 0.01);
  assert.equal(JSON.stringify(batch).includes('secret-101'), false, 'credentials are sealed after parsing');
});

test('decimal strings are numbers, attempt > 1 marks a retry, the account quantity wins', () => {
  const parsed = parseWith(ExecuteRequestSchema, {
    attempt: 2,
    signal: { ...signal, quantity: '0.02', side: 'SELL' },
    accounts: [{ ...account, quantity: '0.5', client_order_id: 'abc123' }],
  });
  assert.ok(parsed.ok);
  assert.equal(parsed.value.retry, true);
  assert.equal(parsed.value.signal.side, 'sell');
  assert.equal(parsed.value.accounts[0]?.quantity, 0.5);
  assert.equal(parsed.value.accounts[0]?.client_order_id, 'abc123');
});

test('every bad field is named', () => {
  const cases: Array<[unknown, string]> = [
    [{ signal, accounts: [] }, 'accounts'],
    [{ accounts: [account] }, 'signal'],
    [{ signal: { ...signal, side: 'long' }, accounts: [account] }, 'signal.side'],
    [{ signal: { ...signal, quantity: -1 }, accounts: [account] }, 'signal.quantity'],
    [{ signal: { ...signal, quantity: 'lots' }, accounts: [account] }, 'signal.quantity'],
    [{ signal: { ...signal, symbol: 'BTCUSDT' }, accounts: [account] }, 'signal.symbol'],
    [{ signal: { ...signal, order_type: 'limit' }, accounts: [account] }, 'signal.price'],
    [{ signal: { ...signal, stop_loss: 70000, take_profit: 65000 }, accounts: [account] }, 'signal.stop_loss'],
    [{ signal: { ...signal, reduce_only: true, stop_loss: 1 }, accounts: [account] }, 'signal.stop_loss'],
    [{ signal: { ...signal, leverage: 2.5 }, accounts: [account] }, 'signal.leverage'],
    [{ signal, accounts: [{ ...account, api_secret: '' }] }, 'accounts[0].api_secret'],
    [{ signal, accounts: [{ ...account, api_key: 12 }] }, 'accounts[0].api_key'],
    [{ signal, accounts: [{ ...account, exchange: 'Bin ance' }] }, 'accounts[0].exchange'],
    [{ signal, accounts: [{ ...account, client_order_id: 'has-dash' }] }, 'accounts[0].client_order_id'],
    [{ signal, accounts: [account, account] }, 'accounts'],
    [{ signal, accounts: [account], attempt: 0 }, 'attempt'],
  ];
  for (const [body, field] of cases) {
    const parsed = parseWith(ExecuteRequestSchema, body);
    assert.equal(parsed.ok, false, JSON.stringify(body));
    if (!parsed.ok) assert.ok(parsed.issues.some((i) => i.field === field), `${field} not in ${JSON.stringify(parsed.issues)}`);
  }
});

/** A batch with its credentials opened, so two batches compare field by field. */
const plain = (batch: { accounts: Array<{ credentials: { reveal(): unknown } }> }) => ({ ...batch, accounts: batch.accounts.map((a) => ({ ...a, credentials: a.credentials.reveal() })) });

test('each request a center sends parses back, on the node, into the very batch it was made from', () => {
  const execute = v.parse(ExecuteRequestSchema, {
    request_id: 'r-1',
    attempt: 3,
    signal: { ...signal, order_type: 'limit', price: 60000, stop_loss: 59000, take_profit: 61000, leverage: 5 },
    accounts: [{ ...account, passphrase: 'pass-101', sandbox: true, quantity: 0.03, client_order_id: 'abc123' }, { ...account, account_id: 'text-id' }],
  });
  assert.deepEqual(plain(v.parse(ExecuteRequestSchema, JSON.parse(JSON.stringify(executeRequestOf(execute))))), plain(execute));
  const query = v.parse(QueryOrdersRequestSchema, { request_id: 'q', accounts: [{ ...account, orders: [{ client_order_id: 'tc1', symbol: 'BTC/USDT:USDT', kind: 'stop_loss' }] }] });
  assert.deepEqual(plain(v.parse(QueryOrdersRequestSchema, JSON.parse(JSON.stringify(queryOrdersRequestOf(query))))), plain(query));
  const sync = v.parse(SyncRequestSchema, { symbols: ['BTC/USDT:USDT'], accounts: [{ ...account, passphrase: 'p' }] });
  assert.deepEqual(plain(v.parse(SyncRequestSchema, JSON.parse(JSON.stringify(syncRequestOf(sync))))), plain(sync));
});
