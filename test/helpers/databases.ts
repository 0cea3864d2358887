import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db, type DbTarget } from '../../src/center/db/connect.js';
import { migrateToLatest } from '../../src/center/db/migrations.js';
import { startMariaDb } from './mariadb-server.js';
import { needs, type Service } from './services.js';

/**
 * Every center test runs on both dialects, like Kysely's own suite: the
 * embedded SQLite file and a real MariaDB. The MariaDB is the one at
 * TRADECTL_TEST_MYSQL_URL (build/run-tests.mjs starts one of its own and sets
 * it), or else one this process starts for itself. Each run gets its own
 * database, dropped afterwards.
 */
let ownServer: Promise<string> | undefined;

/** `mysql://user:password@host:port` of the tests' MariaDB, without a database. */
export function mysqlUrl(): Promise<string> {
  const given = process.env['TRADECTL_TEST_MYSQL_URL'];
  if (given) return Promise.resolve(given);
  ownServer ??= startMariaDb().then((server) => {
    process.once('exit', () => server.stopNow());
    return server.url;
  });
  return ownServer;
}

/** The URL without its password, for messages. */
const shown = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

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
  const url = await mysqlUrl();
  const { createConnection } = await import('mysql2/promise');
  let admin;
  try {
    admin = await createConnection({ uri: url, connectTimeout: 10_000 });
  } catch (error) {
    throw new Error(`MariaDB is not reachable at ${shown(url)} (${(error as Error).message}); unset TRADECTL_TEST_MYSQL_URL to let the tests start their own, or start that server`);
  }
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await admin.end();
  return {
    target: { dialect, location: `${url}/${name}` },
    drop: async () => {
      const conn = await createConnection({ uri: url, connectTimeout: 10_000 });
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}

export const DIALECTS = ['sqlite', 'mysql'] as const;

/** Options for a suite on `dialect` that also needs `services`: skipped, saying why, when one is missing. */
export function onDialect(dialect: 'sqlite' | 'mysql', ...services: Service[]): { skip?: string } {
  return needs(...(dialect === 'mysql' ? ['mysql' as const] : []), ...services);
}

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
