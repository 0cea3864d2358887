/*
 * Multi-row writes of a signal's answers, with SQL text built here rather
 * than by Kysely's query builder. A 1,000-account signal writes ~1,000 order
 * updates, 1,000 fills and 4,000 ledger rows, and Kysely builds statements
 * node by node (parse, freeze, visit every value): a large part of the
 * center's CPU per signal (docs/performance.md).
 * Column and table names come from code, never from input; every value is
 * a bound parameter.
 */

import { CompiledQuery, MysqlAdapter, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/** A column value as both drivers take it (money as `bigint`: mysql2 and better-sqlite3 both bind it exactly). */
export type RowValue = string | number | bigint | null;

type Executor = Pick<Kysely<Database>, 'executeQuery' | 'getExecutor'>;

function isMysql(db: Executor): boolean {
  return db.getExecutor().adapter instanceof MysqlAdapter;
}

function quote(mysql: boolean, name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a column or table name: ${name}`);
  return mysql ? `\`${name}\`` : `"${name}"`;
}

/** One INSERT of every row; each row must have the same columns as the first. */
export async function insertRows(db: Executor, table: keyof Database, rows: ReadonlyArray<Readonly<Record<string, RowValue>>>): Promise<void> {
  const first = rows[0];
  if (!first) return;
  const mysql = isMysql(db);
  const columns = Object.keys(first);
  const params: RowValue[] = [];
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (const row of rows) {
    for (const column of columns) {
      const value = row[column];
      if (value === undefined) throw new Error(`${table}: a row has no value for ${column}`);
      params.push(value);
    }
  }
  const text = `insert into ${quote(mysql, table)} (${columns.map((c) => quote(mysql, c)).join(', ')}) values ${rows.map(() => tuple).join(', ')}`;
  await db.executeQuery(CompiledQuery.raw(text, params));
}

/**
 * Sets each row's own values, by `id`. On SQLite, one UPDATE per row: a
 * prepared statement per column set, no round trip, and linear where a
 * `CASE id WHEN …` over n rows costs n² comparisons. On MySQL, where every
 * statement is a round trip, one UPDATE per column set with
 * `CASE id WHEN … END` for the columns whose values differ.
 */
export async function updateRowsById(
  db: Executor,
  table: keyof Database,
  updates: ReadonlyArray<{ id: number; values: Readonly<Record<string, RowValue | undefined>> }>,
): Promise<void> {
  const mysql = isMysql(db);
  const groups = new Map<string, Array<{ id: number; values: Readonly<Record<string, RowValue | undefined>> }>>();
  for (const u of updates) {
    const key = Object.keys(u.values)
      .filter((c) => u.values[c] !== undefined)
      .sort()
      .join(',');
    if (key === '') continue;
    const group = groups.get(key);
    if (group) group.push(u);
    else groups.set(key, [u]);
  }
  const t = quote(mysql, table);
  for (const [key, group] of groups) {
    const columns = key.split(',');
    if (!mysql || group.length === 1) {
      const text = `update ${t} set ${columns.map((c) => `${quote(mysql, c)} = ?`).join(', ')} where ${quote(mysql, 'id')} = ?`;
      for (const u of group) {
        await db.executeQuery(CompiledQuery.raw(text, [...columns.map((c) => u.values[c] as RowValue), u.id]));
      }
      continue;
    }
    const params: RowValue[] = [];
    const sets = columns.map((c) => {
      const firstValue = group[0]?.values[c] as RowValue;
      if (group.every((u) => u.values[c] === firstValue)) {
        params.push(firstValue);
        return `${quote(mysql, c)} = ?`;
      }
      for (const u of group) params.push(u.id, u.values[c] as RowValue);
      return `${quote(mysql, c)} = (case ${quote(mysql, 'id')} ${group.map(() => 'when ? then ?').join(' ')} end)`;
    });
    for (const u of group) params.push(u.id);
    const text = `update ${t} set ${sets.join(', ')} where ${quote(mysql, 'id')} in (${group.map(() => '?').join(', ')})`;
    await db.executeQuery(CompiledQuery.raw(text, params));
  }
}

/**
 * Adds each row's own amounts to its columns, by `id` (`col = col + ?`, so
 * concurrent writers never lose each other's changes). Rows are touched in
 * the order given; callers pass them in key order so that concurrent
 * batches lock the same rows in the same order. SQLite: one UPDATE per row;
 * MySQL: one UPDATE with `CASE id WHEN …` per column, as `updateRowsById`.
 */
export async function addToRowsById(db: Executor, table: keyof Database, columns: readonly string[], rows: ReadonlyArray<{ id: number; amounts: readonly bigint[] }>): Promise<void> {
  if (rows.length === 0) return;
  const mysql = isMysql(db);
  const t = quote(mysql, table);
  const id = quote(mysql, 'id');
  if (!mysql || rows.length === 1) {
    const text = `update ${t} set ${columns.map((c) => `${quote(mysql, c)} = ${quote(mysql, c)} + ?`).join(', ')} where ${id} = ?`;
    for (const row of rows) await db.executeQuery(CompiledQuery.raw(text, [...row.amounts, row.id]));
    return;
  }
  const params: RowValue[] = [];
  const sets = columns.map((c, j) => {
    for (const row of rows) params.push(row.id, row.amounts[j] ?? 0n);
    return `${quote(mysql, c)} = ${quote(mysql, c)} + (case ${id} ${rows.map(() => 'when ? then ?').join(' ')} else 0 end)`;
  });
  for (const row of rows) params.push(row.id);
  await db.executeQuery(CompiledQuery.raw(`update ${t} set ${sets.join(', ')} where ${id} in (${rows.map(() => '?').join(', ')})`, params));
}
