import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, prettyLine } from '../../src/process/logger.js';
import { Credentials } from '../../src/core/credentials.js';

function capture(format: 'json' | 'pretty') {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', format, stream: { write: (l: string) => lines.push(l) } });
  return { logger, lines };
}

test('JSON logs are one object per line and redact secrets by key and by type', () => {
  const { logger, lines } = capture('json');
  logger.info(
    {
      creds: new Credentials('key-abcdef', 'secret-ghijkl'),
      api_secret: 'plain-secret-1',
      account: { api_key: 'plain-key-2', passphrase: 'plain-pass-3' },
      headers: { 'x-center-token': 'plain-token-4' },
    },
    'hello',
  );
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
  assert.equal(entry['msg'], 'hello');
  for (const secret of ['key-abcdef', 'secret-ghijkl', 'plain-secret-1', 'plain-key-2', 'plain-pass-3', 'plain-token-4']) {
    assert.ok(!lines[0]?.includes(secret), `${secret} leaked: ${lines[0]}`);
  }
});

test('pretty logs are readable lines', () => {
  const { logger, lines } = capture('pretty');
  logger.warn({ account_id: 7, reason: 'two words' }, 'heartbeat failed');
  assert.match(lines[0] ?? '', /^\d\d:\d\d:\d\d\.\d{3} WARN  heartbeat failed account_id=7 reason="two words"\n$/);
  assert.equal(prettyLine('not json'), 'not json');
});
