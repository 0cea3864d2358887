import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { test } from 'node:test';
import { Credentials, scrubSecrets } from '../../src/core/credentials.js';

const creds = () => new Credentials('AKIA-live-key-123', 'very-secret-value-456', 'pass-phrase-789');

test('credentials print as [redacted] through JSON, inspect, strings and errors', () => {
  const c = creds();
  const outputs = [
    JSON.stringify({ c }),
    JSON.stringify([c]),
    inspect({ nested: { c } }, { depth: 10, showHidden: true }),
    `${c}`,
    String(c),
    new Error(`failed for ${c}`).message,
  ];
  for (const out of outputs) {
    for (const secret of ['AKIA-live-key-123', 'very-secret-value-456', 'pass-phrase-789']) {
      assert.ok(!out.includes(secret), `${secret} leaked in ${out}`);
    }
    assert.match(out, /\[redacted\]/);
  }
});

test('reveal hands the raw values to the exchange client only', () => {
  assert.deepEqual(creds().reveal(), { apiKey: 'AKIA-live-key-123', secret: 'very-secret-value-456', passphrase: 'pass-phrase-789' });
  assert.equal(new Credentials('k', 's', '').reveal().passphrase, undefined);
});

test('the fingerprint changes when any credential changes and hides them', () => {
  const a = creds().fingerprint();
  assert.equal(a, creds().fingerprint());
  assert.notEqual(a, new Credentials('AKIA-live-key-123', 'rotated-secret-value', 'pass-phrase-789').fingerprint());
  assert.notEqual(a, new Credentials('AKIA-live-key-123', 'very-secret-value-456').fingerprint());
  assert.ok(!a.includes('AKIA'));
});

test('scrubSecrets removes echoed credentials and signed query parameters', () => {
  const text = 'binanceusdm GET http://x/fapi/v1/order?timestamp=1&signature=abcdef0123 401 {"msg":"key AKIA-live-key-123 invalid"}';
  const out = scrubSecrets(text, creds());
  assert.ok(!out.includes('AKIA-live-key-123'));
  assert.ok(!out.includes('abcdef0123'));
  assert.match(out, /signature=\[redacted\]/);
});
