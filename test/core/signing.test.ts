import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authHeaders, constantTimeEqual, signRequest, verifySignature } from '../../src/core/signing.js';

const secret = 'a-shared-secret-of-some-length';

test('a signature covers timestamp, method, host, path, node code and body', () => {
  const parts = { timestamp: '1700000000000', method: 'POST', host: '10.0.0.5:9101', path: '/api/execute', node: 'node-sg-1', body: '{"a":1}' };
  const sig = signRequest(secret, parts);
  assert.match(sig, /^[0-9a-f]{64}$/);
  assert.ok(verifySignature(secret, parts, sig));
  assert.ok(verifySignature(secret, parts, sig.toUpperCase()));
  assert.ok(verifySignature(secret, { ...parts, host: '10.0.0.5:9101'.toUpperCase() }, sig), 'host names are case-insensitive');
  for (const changed of [
    { ...parts, timestamp: '1700000000001' },
    { ...parts, method: 'GET' },
    { ...parts, host: '10.0.0.6:9101' },
    { ...parts, host: '10.0.0.5:9102' },
    { ...parts, path: '/api/sync-balance' },
    { ...parts, node: 'node-sg-2' },
    { ...parts, node: '' },
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
  const request = { method: 'POST', url: new URL('http://node-a.internal:9101/x?y=1'), node: 'node-a', body: 'body' };
  assert.deepEqual(authHeaders(undefined, 'token', request), {});
  assert.deepEqual(authHeaders(secret, 'token', request), { 'x-center-token': secret });
  const h = authHeaders(secret, 'hmac', request, 1234);
  assert.equal(h['x-center-timestamp'], '1234');
  assert.ok(verifySignature(secret, { timestamp: '1234', method: 'POST', host: 'node-a.internal:9101', path: '/x?y=1', node: 'node-a', body: 'body' }, h['x-center-signature'] ?? ''));
  assert.ok(!JSON.stringify(h).includes(secret));
  const https = authHeaders(secret, 'hmac', { ...request, url: new URL('https://node-a.internal:443/x') }, 1234);
  assert.ok(verifySignature(secret, { timestamp: '1234', method: 'POST', host: 'node-a.internal', path: '/x', node: 'node-a', body: 'body' }, https['x-center-signature'] ?? ''), 'a default port is not part of the host, as in the Host header');
});
