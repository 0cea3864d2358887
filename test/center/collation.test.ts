import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Migrator, sql } from 'kysely';
import { openDb } from '../../src/center/db/connect.js';
import { migrateToLatest, migrationsFor, TABLES } from '../../src/center/db/migrations.js';
import { startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { DIALECTS, freshDatabase, onDialect } from '../helpers/databases.js';
import { needs } from '../helpers/services.js';

/** Strings that differ only in case or accent: a case- or accent-insensitive collation takes them for one. */
const LOOK_ALIKES = ['Sig-A', 'sig-a', 'SIG-A', 'sig-á', 'sig-à'];

for (const dialect of DIALECTS) {
  describe(`identifiers compare byte for byte on ${dialect}`, onDialect(dialect), () => {
    let h: CenterHarness;
    before(async () => {
      h = await startCenterHarness(dialect);
      const owner = (await h.api('POST', '/api/users', { username: 'collate' })).body.user.id;
      const account = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'paper', api_key: 'collate-key', api_secret: 'collate-secret' })).body.account;
      await h.api('POST', '/api/strategies', { strategy_code: 'c' });
      await h.api('POST', '/api/strategies/c/bindings', { account_id: account.id });
    });
    after(() => h?.close());

    test('signal ids that differ only in case or accent are different signals, each placed', async () => {
      for (const id of LOOK_ALIKES) {
        const res = await h.api('POST', '/api/signals?wait=true', { strategy_code: 'c', signal_id: id, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.001 });
        assert.equal(res.status, 201, `${id}: ${res.text}`);
        assert.equal(res.body.duplicate, false, id);
        assert.equal(res.body.signal.signal_id, id);
        assert.equal(res.body.signal.orders[0].status, 'filled', id);
      }
      for (const id of LOOK_ALIKES) assert.equal((await h.api('GET', `/api/signals/${encodeURIComponent(id)}`)).body.signal.signal_id, id);
      const again = await h.api('POST', '/api/signals', { strategy_code: 'c', signal_id: 'sig-a', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.001 });
      assert.equal(again.body.duplicate, true, 'the very same id is still a duplicate');
    });

    test('top-up keys, usernames, strategy and node codes that differ only in case are distinct', async () => {
      const user = (await h.api('POST', '/api/users', { username: 'payer' })).body.user.id;
      assert.equal((await h.api('POST', `/api/users/${user}/points`, { amount: 5, idempotency_key: 'Invoice-7' })).body.applied, true);
      const second = await h.api('POST', `/api/users/${user}/points`, { amount: 5, idempotency_key: 'invoice-7' });
      assert.equal(second.body.applied, true);
      assert.equal(second.body.user.points, '10');
      for (const name of ['Payer', 'PAYER']) assert.equal((await h.api('POST', '/api/users', { username: name })).status, 201, name);
      for (const code of ['C', 'c2', 'C2']) assert.equal((await h.api('POST', '/api/strategies', { strategy_code: code })).status, 201, code);
      for (const code of ['node-x', 'Node-X']) assert.equal((await h.api('POST', '/api/nodes', { node_code: code, base_url: 'http://127.0.0.1:1' })).status, 201, code);
      assert.equal((await h.api('GET', '/api/nodes/Node-X')).body.node.node_code, 'Node-X');
    });

    if (dialect === 'mysql') {
      test('every text column of every table has a binary collation', async () => {
        const rows = await sql<{ table_name: string; column_name: string; collation_name: string }>`
          select table_name as table_name, column_name as column_name, collation_name as collation_name
          from information_schema.columns where table_schema = database() and collation_name is not null`.execute(h.center.ctx.db.kysely);
        const tables = new Set(rows.rows.map((r) => r.table_name));
        assert.ok(tables.has('fact_signal') && tables.has('fact_ledger'), 'the query sees the tables');
        const loose = rows.rows.filter((r) => (TABLES as readonly string[]).includes(r.table_name) && !/_bin$/.test(r.collation_name));
        assert.deepEqual(loose, [], 'columns that would compare case- or accent-insensitively');
      });
    }
  });
}

describe('the migration makes an existing MariaDB database binary', needs('mysql'), () => {
  test('a signal id taken under the old collation no longer hides its look-alikes', async () => {
    const fresh = await freshDatabase('mysql');
    const db = await openDb(fresh.target);
    try {
      const provider = { getMigrations: async () => migrationsFor('mysql') };
      const migrator = new Migrator({ db: db.kysely, provider, migrationTableName: 'tradectl_migration', migrationLockTableName: 'tradectl_migration_lock' });
      const before = await migrator.migrateTo('0003_signal_reduce_only');
      assert.equal(before.error, undefined);
      const row = { strategy_id: 1, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: '1', order_type: 'market', reduce_only: 0, request_id: 'r', status: 'completed', accepted_at: 1 };
      await db.kysely.insertInto('fact_signal').values({ ...row, signal_id: 'Sig-A' }).execute();
      const hidden = await db.kysely.selectFrom('fact_signal').select('signal_id').where('signal_id', '=', 'sig-á').execute();
      assert.equal(hidden.length, 1, 'the server default collation took sig-á for Sig-A (the defect)');

      const report = await migrateToLatest(db.kysely, 'mysql');
      assert.deepEqual(report.applied, ['0004_binary_text', '0005_request_id_length', '0006_order_reconciled_at', '0007_signal_margin_mode', '0008_signal_actions', '0009_order_legs', '0010_follower_positions', '0011_protective_orders', '0012_binding_sizing']);
      assert.deepEqual(await db.kysely.selectFrom('fact_signal').select(['action', 'position_side', 'close_fraction', 'cancel']).where('signal_id', '=', 'Sig-A').execute(), [{ action: 'open', position_side: null, close_fraction: null, cancel: null }], 'a signal stored before actions existed is an open');
      assert.equal((await db.kysely.selectFrom('fact_signal').select('signal_id').where('signal_id', '=', 'sig-á').execute()).length, 0);
      for (const id of ['sig-a', 'SIG-A', 'sig-á']) await db.kysely.insertInto('fact_signal').values({ ...row, signal_id: id }).execute();
      const all = await db.kysely.selectFrom('fact_signal').select('signal_id').orderBy('id').execute();
      assert.deepEqual(all.map((r) => r.signal_id), ['Sig-A', 'sig-a', 'SIG-A', 'sig-á']);
      await assert.rejects(db.kysely.insertInto('fact_signal').values({ ...row, signal_id: 'sig-a' }).execute(), /Duplicate entry/);
    } finally {
      await db.close();
      await fresh.drop();
    }
  });
});
