import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { withStatementCache } from '../../src/center/db/connect.js';

interface T {
  t: { id: number; v: string };
}

interface M {
  m: { id: number; at: number; balance_units: bigint };
}

function open(size: number) {
  const dir = mkdtempSync(join(tmpdir(), 'tradectl-stmt-'));
  const raw = new SQLite(join(dir, 'x.sqlite'));
  let prepared = 0;
  const counting = { close: () => raw.close(), prepare: (text: string) => (prepared++, raw.prepare(text)) };
  const cache = withStatementCache(counting, size);
  const kysely = new Kysely<T>({ dialect: new SqliteDialect({ database: cache }) });
  return { kysely, cache, prepared: () => prepared, close: async () => (await kysely.destroy(), rmSync(dir, { recursive: true, force: true })) };
}

test('a repeated SQLite query reuses its prepared statement and still sees its own parameters and new rows', async () => {
  const db = open(10);
  try {
    await sql`create table t (id integer primary key, v text not null)`.execute(db.kysely);
    for (let i = 1; i <= 5; i++) await db.kysely.insertInto('t').values({ id: i, v: `v${i}` }).execute();
    const before = db.prepared();
    for (let i = 1; i <= 5; i++) {
      const row = await db.kysely.selectFrom('t').selectAll().where('id', '=', i).executeTakeFirstOrThrow();
      assert.deepEqual(row, { id: i, v: `v${i}` });
    }
    assert.equal(db.prepared() - before, 1, 'one prepare for five runs of the same SQL');
    await db.kysely.updateTable('t').set({ v: 'changed' }).where('id', '=', 3).execute();
    assert.equal((await db.kysely.selectFrom('t').selectAll().where('id', '=', 3).executeTakeFirstOrThrow()).v, 'changed');
    const inserted = await db.kysely.insertInto('t').values({ id: 6, v: 'v6' }).executeTakeFirstOrThrow();
    assert.equal(Number(inserted.insertId), 6);
    await db.kysely.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ id: 7, v: 'v7' }).execute();
      assert.equal((await trx.selectFrom('t').select('v').where('id', '=', 7).executeTakeFirstOrThrow()).v, 'v7');
    });
    const streamed: number[] = [];
    for await (const row of db.kysely.selectFrom('t').select('id').orderBy('id').stream()) streamed.push(row.id);
    assert.deepEqual(streamed, [1, 2, 3, 4, 5, 6, 7]);
  } finally {
    await db.close();
  }
});

test('the SQLite statement cache keeps at most its size, dropping the least recently used', async () => {
  const db = open(3);
  try {
    await sql`create table t (id integer primary key, v text not null)`.execute(db.kysely);
    // IN lists of different lengths are different SQL texts.
    for (let n = 1; n <= 8; n++) {
      const ids = Array.from({ length: n }, (_, i) => i + 1);
      assert.deepEqual(await db.kysely.selectFrom('t').selectAll().where('id', 'in', ids).execute(), []);
    }
    assert.equal(db.cache.cachedStatements(), 3);
  } finally {
    await db.close();
  }
});

test('SQLite reads money columns (and sums aliased like them) as exact bigints, every other integer as a number, streamed too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tradectl-stmt-'));
  const kysely = new Kysely<M>({ dialect: new SqliteDialect({ database: withStatementCache(new SQLite(join(dir, 'x.sqlite'))) }) });
  try {
    await sql`create table m (id integer primary key, at bigint not null, balance_units bigint not null)`.execute(kysely);
    const big = 2n ** 63n - 1n;
    await kysely.insertInto('m').values([{ id: 1, at: 1_700_000_000_000, balance_units: big }, { id: 2, at: 2, balance_units: -(2n ** 53n) - 1n }]).execute();
    assert.deepEqual(await kysely.selectFrom('m').selectAll().orderBy('id').execute(), [
      { id: 1, at: 1_700_000_000_000, balance_units: big },
      { id: 2, at: 2, balance_units: -(2n ** 53n) - 1n },
    ]);
    const streamed = [];
    for await (const row of kysely.selectFrom('m').select(['id', 'balance_units']).orderBy('id').stream()) streamed.push(row);
    assert.deepEqual(streamed, [{ id: 1, balance_units: big }, { id: 2, balance_units: -(2n ** 53n) - 1n }]);
    const sum = await kysely.selectFrom('m').select(({ fn }) => fn.sum<bigint>('balance_units').as('total_units')).where('id', '=', 2).executeTakeFirstOrThrow();
    assert.equal(sum.total_units, -(2n ** 53n) - 1n);
    // Not money: integers as numbers, as before.
    assert.deepEqual(await kysely.selectFrom('m').select(['id', 'at']).where('id', '=', 1).execute(), [{ id: 1, at: 1_700_000_000_000 }]);
    // SQLite turns an addition past 64 bits into a rounded REAL: refused when read, never passed on as money.
    await sql`update m set balance_units = balance_units + 1 where id = 1`.execute(kysely);
    await assert.rejects(kysely.selectFrom('m').select('balance_units').where('id', '=', 1).execute(), /balance_units: not an exact number of units/);
  } finally {
    await kysely.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
