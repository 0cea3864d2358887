import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, MysqlDialect, SqliteDialect, type SqliteDatabase, type SqliteStatement, type Transaction } from 'kysely';
import { mysqlExactMoney, withExactMoney, type DriverStatement } from './money-columns.js';
import type { Database } from './schema.js';

export type DialectName = 'mysql' | 'sqlite';

export interface DbTarget {
  dialect: DialectName;
  /** mysql: a mysql:// URL; sqlite: a file path (or `:memory:`). */
  location: string;
}

export interface Db {
  kysely: Kysely<Database>;
  dialect: DialectName;
  /** Where it points, with any password removed: safe to log. */
  describe: string;
  close(): Promise<void>;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Opens the center's database: MySQL (mysql2 pool) in production, or an
 * embedded SQLite file. Each driver is imported only when chosen, so a MySQL
 * deployment never loads the native SQLite module and vice versa.
 */
export async function openDb(target: DbTarget): Promise<Db> {
  if (target.dialect === 'mysql') {
    const { createPool } = await import('mysql2');
    const pool = createPool({
      uri: target.location,
      connectionLimit: 10,
      // A BIGINT past 2^53 comes back as its digits, the rest as numbers:
      // exact, and money (`*_units`) is made a bigint (`mysqlExactMoney`).
      // Ids and times stay below 2^53.
      supportBigNumbers: true,
      bigNumberStrings: false,
      charset: 'utf8mb4',
      timezone: 'Z',
    });
    const kysely = new Kysely<Database>({ dialect: new MysqlDialect({ pool }), plugins: [mysqlExactMoney] });
    return { kysely, dialect: 'mysql', describe: redactUrl(target.location), close: () => kysely.destroy() };
  }
  const { default: SQLite } = await import('better-sqlite3');
  if (target.location !== ':memory:') mkdirSync(dirname(target.location), { recursive: true });
  const database = new SQLite(target.location);
  // WAL lets the API read while a dispatch writes; busy_timeout waits for a
  // writer instead of failing with SQLITE_BUSY.
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  return { kysely, dialect: 'sqlite', describe: `sqlite:${target.location}`, close: () => kysely.destroy() };
}

/** Distinct SQL texts kept prepared; `IN (?, ?, …)` lists of many lengths make the set open-ended. */
export const STATEMENT_CACHE_SIZE = 500;

/** The better-sqlite3 database, as far as it is used here. */
interface DriverDatabase {
  close(): void;
  prepare(sql: string): DriverStatement;
}

/**
 * Kysely's SQLite driver prepares every query anew, and preparing was a
 * large share of the center's busy time applying a signal
 * (docs/performance.md). A prepared better-sqlite3 statement is reusable
 * once a call returns, and Kysely runs one query at a time on its single
 * connection, so statements are kept by SQL text, least recently used out.
 * Each is prepared to read money exactly (`withExactMoney`).
 */
export function withStatementCache(database: DriverDatabase, size = STATEMENT_CACHE_SIZE): SqliteDatabase & { cachedStatements(): number } {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sql) {
      let statement = statements.get(sql);
      if (statement) {
        statements.delete(sql);
      } else {
        statement = withExactMoney(database.prepare(sql));
        if (statements.size >= size) statements.delete(statements.keys().next().value as string);
      }
      statements.set(sql, statement);
      return statement;
    },
    cachedStatements: () => statements.size,
  };
}

/** True when a write failed on a UNIQUE index (both dialects). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; errno?: number } | null;
  return e?.code === 'ER_DUP_ENTRY' || e?.errno === 1062 || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** InnoDB's "deadlock, try again" and lock-wait timeout: the transaction did nothing and may be rerun. */
export function isRetryableConflict(error: unknown): boolean {
  const e = error as { code?: string; errno?: number } | null;
  return e?.errno === 1213 || e?.errno === 1205 || e?.code === 'ER_LOCK_DEADLOCK' || e?.code === 'ER_LOCK_WAIT_TIMEOUT' || e?.code === 'SQLITE_BUSY';
}

/**
 * Runs `work` in a transaction, rerunning it when the database aborts it to
 * break a deadlock (InnoDB does this under concurrent writers; the standard
 * remedy is to retry). `work` must therefore be safe to run again: it is
 * rolled back in full before each retry.
 */
export async function transact<T>(kysely: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await kysely.transaction().execute(work);
    } catch (error) {
      if (attempt >= attempts || !isRetryableConflict(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 20));
    }
  }
}
