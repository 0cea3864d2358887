import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Db } from '../../src/center/db/connect.js';
import { addToRowsById, insertRows, updateRowsById } from '../../src/center/db/bulk-writes.js';
import { DIALECTS, migratedDb, onDialect } from '../helpers/databases.js';

for (const dialect of DIALECTS) {
  describe(`raw multi-row writes on ${dialect}`, onDialect(dialect), () => {
    let db: Db;
    let drop: () => Promise<void>;
    before(async () => {
      ({ db, drop } = await migratedDb(dialect));
    });
    after(() => drop());

    const user = (username: string, points = 0n) => ({ username, inviter_id: null, points_units: points, rewards_units: 0n, created_at: 1 });
    const users = (names: string[]) =>
      db.kysely.selectFrom('dim_user').select(['id', 'username', 'inviter_id', 'points_units', 'rewards_units']).where('username', 'in', names).orderBy('id').execute();

    test('insertRows writes every row with its own values, nulls included', async () => {
      await insertRows(db.kysely, 'fact_ledger', [
        { entry_key: 'raw:a', kind: 'fee_charge', user_id: 7, order_id: 70, amount_units: -5n, created_at: 1 },
        { entry_key: 'raw:b', kind: 'pool_income', user_id: null, order_id: 71, amount_units: 9n, created_at: 2 },
        // Past 2^53 and up to BIGINT's ceiling, both ways.
        { entry_key: 'raw:c', kind: 'topup', user_id: 7, order_id: null, amount_units: 2n ** 63n - 1n, created_at: 3 },
        { entry_key: 'raw:d', kind: 'fee_charge', user_id: 7, order_id: null, amount_units: -(2n ** 53n) - 1n, created_at: 4 },
      ]);
      const rows = await db.kysely.selectFrom('fact_ledger').select(['entry_key', 'kind', 'user_id', 'order_id', 'amount_units', 'created_at']).where('entry_key', 'like', 'raw:%').orderBy('entry_key').execute();
      // Money reads as bigint; ids and times stay numbers.
      assert.deepEqual(rows, [
        { entry_key: 'raw:a', kind: 'fee_charge', user_id: 7, order_id: 70, amount_units: -5n, created_at: 1 },
        { entry_key: 'raw:b', kind: 'pool_income', user_id: null, order_id: 71, amount_units: 9n, created_at: 2 },
        { entry_key: 'raw:c', kind: 'topup', user_id: 7, order_id: null, amount_units: 2n ** 63n - 1n, created_at: 3 },
        { entry_key: 'raw:d', kind: 'fee_charge', user_id: 7, order_id: null, amount_units: -(2n ** 53n) - 1n, created_at: 4 },
      ]);
      // So does a sum aliased like a money column, and `select *`.
      const total = await db.kysely.selectFrom('fact_ledger').select(({ fn }) => fn.sum<bigint>('amount_units').as('amount_units')).where('entry_key', 'in', ['raw:c', 'raw:d']).executeTakeFirstOrThrow();
      assert.equal(total.amount_units, 2n ** 63n - 1n - 2n ** 53n - 1n);
      const all = await db.kysely.selectFrom('fact_ledger').selectAll().where('entry_key', '=', 'raw:c').executeTakeFirstOrThrow();
      assert.equal(all.amount_units, 2n ** 63n - 1n);
      assert.equal(typeof all.id, 'number');
    });

    test('insertRows refuses a row without a value for a column, and writes nothing', async () => {
      await assert.rejects(
        insertRows(db.kysely, 'dim_user', [user('short-1'), { username: 'short-2', inviter_id: null, points_units: 0, rewards_units: 0 } as unknown as ReturnType<typeof user>]),
        /dim_user: a row has no value for created_at/,
      );
      assert.equal((await users(['short-1', 'short-2'])).length, 0);
    });

    test('insertRows refuses a column name that is not a plain identifier', async () => {
      await assert.rejects(insertRows(db.kysely, 'dim_user', [{ 'username") values (1); --': 'x' }]), /not a column or table name/);
    });

    test('updateRowsById gives each row its own values and leaves the columns it does not name', async () => {
      const names = ['upd-1', 'upd-2', 'upd-3', 'upd-4'];
      await insertRows(db.kysely, 'dim_user', names.map((n, i) => user(n, 100n + BigInt(i))));
      const [a, b, c, d] = await users(names);
      assert.ok(a && b && c && d);
      await updateRowsById(db.kysely, 'dim_user', [
        // Same columns, different values: one statement per column set on MySQL, one per row on SQLite.
        { id: a.id, values: { points_units: 1n, rewards_units: 11n } },
        { id: b.id, values: { points_units: 2n ** 60n, rewards_units: 11n } },
        // Another column set; an undefined value is not written.
        { id: c.id, values: { inviter_id: a.id, points_units: undefined } },
      ]);
      const after = await users(names);
      assert.deepEqual(
        after.map((u) => [u.points_units, u.rewards_units, u.inviter_id]),
        [
          [1n, 11n, null],
          [2n ** 60n, 11n, null],
          [102n, 0n, a.id],
          [103n, 0n, null],
        ],
      );
    });

    test('addToRowsById adds each row its own amounts, negative ones too', async () => {
      const names = ['add-1', 'add-2', 'add-3'];
      await insertRows(db.kysely, 'dim_user', names.map((n) => user(n, 1000n)));
      const [a, b, c] = await users(names);
      assert.ok(a && b && c);
      await addToRowsById(db.kysely, 'dim_user', ['points_units', 'rewards_units'], [
        { id: a.id, amounts: [-30n, 0n] },
        { id: b.id, amounts: [0n, 7n] },
        // Past 2^53: exact to the unit.
        { id: c.id, amounts: [2n ** 62n, 2n ** 53n + 1n] },
      ]);
      await addToRowsById(db.kysely, 'dim_user', ['points_units', 'rewards_units'], [{ id: a.id, amounts: [-5n, 2n] }]);
      await addToRowsById(db.kysely, 'dim_user', ['points_units', 'rewards_units'], [{ id: c.id, amounts: [1n, 1n] }]);
      const after = await users(names);
      assert.deepEqual(
        after.map((u) => [u.points_units, u.rewards_units]),
        [
          [965n, 2n],
          [1000n, 7n],
          [2n ** 62n + 1001n, 2n ** 53n + 2n],
        ],
      );
    });
  });
}
