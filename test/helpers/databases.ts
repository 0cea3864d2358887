import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db, type DbTarget } from '../../src/center/db/connect.js';
import { migrateToLatest } from '../../src/center/db/migrations.js';

/**
 * Every center test runs on both dialects, like Kysely's own suite: the
 * embedded SQLite file and a real MariaDB (started by .ci/run). Each run gets
 * its own database, dropped afterwards.
 */
export const MYSQL_URL = process.env['TRADECTL_TEST_MYSQL_URL'] ?? 'mysql://tradectl:tradectl@127.0.0.1:3306';

export interface TestDatabase {
  target: DbTarget;
  drop(): Promise<void>;
}

export async function freshDatabase(dialect: 'sqlite' | 'mysql'): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tradectl-db-'));
    return { target: { dialect, location: join(dir, 'center.sqlite') }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `tradectl_test_${randomBytes(6).toString('hex')}`;
  const { createConnection } = await import('mysql2/promise');
  let admin;
  try {
    admin = await createConnection({ uri: MYSQL_URL });
  } catch (error) {
    throw new Error(`MariaDB is not reachable at ${MYSQL_URL} (${(error as Error).message}); run .ci/run, or start MariaDB and set TRADECTL_TEST_MYSQL_URL`);
  }
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await admin.end();
  return {
    target: { dialect, location: `${MYSQL_URL}/${name}` },
    drop: async () => {
      const conn = await createConnection({ uri: MYSQL_URL });
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}

export const DIALECTS = ['sqlite', 'mysql'] as const;

/** A migrated database of each dialect for a block of tests. */
export async function migratedDb(dialect: 'sqlite' | 'mysql'): Promise<{ db: Db; drop(): Promise<void> }> {
  const fresh = await freshDatabase(dialect);
  const db = await openDb(fresh.target);
  await migrateToLatest(db.kysely, db.dialect);
  return {
    db,
    drop: async () => {
      await db.close();
      await fresh.drop();
    },
  };
}
