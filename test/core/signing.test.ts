import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authHeaders, constantTimeEqual, signRequest, verifySignature } from '../../src/core/signing.js';

const secret = 'a-shared-secret-of-some-length';

test('a signature covers timestamp, method, path and body', () => {
  const parts = { timestamp: '1700000000000', method: 'POST', path: '/api/execute', body: '{"a":1}' };
  const sig = signRequest(secret, parts);
  assert.match(sig, /^[0-9a-f]{64}$/);
  assert.ok(verifySignature(secret, parts, sig));
  assert.ok(verifySignature(secret, parts, sig.toUpperCase()));
  for (const changed of [
    { ...parts, timestamp: '1700000000001' },
    { ...parts, method: 'GET' },
    { ...parts, path: '/api/sync-balance' },
    { ...parts, body: '{"a":2}' },
  ]) {
    assert.ok(!verifySignature(secret, changed, sig), JSON.stringify(changed));
  }
  assert.ok(!verifySignature('another-secret-entirely', parts, sig));
});

test('constantTimeEqual compares any lengths', () => {
  assert.ok(constantTimeEqual('abc', 'abc'));
  assert.ok(!constantTimeEqual('abc', 'abcd'));
  assert.ok(!constantTimeEqual('abc', ''));
});

test('authHeaders sends the token in token mode and only a signature in hmac mode', () => {
  assert.deepEqual(authHeaders(undefined, 'token', 'POST', '/x', ''), {});
  assert.deepEqual(authHeaders(secret, 'token', 'POST', '/x', ''), { 'x-center-token': secret });
  const h = authHeaders(secret, 'hmac', 'POST', '/x', 'body', 1234);
  assert.equal(h['x-center-timestamp'], '1234');
  assert.ok(verifySignature(secret, { timestamp: '1234', method: 'POST', path: '/x', body: 'body' }, h['x-center-signature'] ?? ''));
  assert.ok(!JSON.stringify(h).includes(secret));
});
