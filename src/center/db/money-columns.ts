/*
 * The one rule for reading money: a result column whose name ends in
 * `_units` (a money column, or an aggregate aliased like one) is a `bigint`;
 * every other integer stays a `number`. Without it money past 2^53 would be
 * a string from mysql2 and a rounded number from better-sqlite3.
 */

import type { KyselyPlugin, SqliteStatement } from 'kysely';

export function isMoneyColumn(name: string): boolean {
  return name.endsWith('_units');
}

function unitsOfText(column: string, text: string): bigint {
  if (!/^-?\d+$/.test(text)) throw new Error(`${column}: not a whole number of units: ${text}`);
  return BigInt(text);
}

/** A money value as a driver gave it: exact as a safe number, a digit string or a bigint. */
function unitsOf(column: string, value: unknown): unknown {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`${column}: not an exact number of units: ${value}`);
    return BigInt(value);
  }
  return typeof value === 'string' ? unitsOfText(column, value) : value;
}

/**
 * MySQL: mysql2 (`supportBigNumbers`, not `bigNumberStrings`) answers a
 * BIGINT as a number while it is a safe integer and as its digits beyond,
 * and a DECIMAL (`sum()`) as its digits: exact either way, so money columns
 * are turned into bigints after the fact. A mysql2 `typeCast` would be
 * called for every field of every row of every query, slowing every read
 * (docs/performance.md); this costs a look at one row's keys per query.
 */
export const mysqlExactMoney: KyselyPlugin = {
  transformQuery: ({ node }) => node,
  async transformResult({ result }) {
    const first = result.rows[0];
    if (first === undefined || first === null || typeof first !== 'object') return result;
    const money = Object.keys(first).filter(isMoneyColumn);
    if (money.length === 0) return result;
    for (const row of result.rows as Array<Record<string, unknown>>) for (const key of money) row[key] = unitsOf(key, row[key]);
    return result;
  },
};

/** The slice of a better-sqlite3 statement used here, beyond what Kysely calls. */
export interface DriverStatement extends SqliteStatement {
  columns(): Array<{ name: string }>;
  safeIntegers(toggle?: boolean): unknown;
}

/**
 * A reader statement with money columns, reading integers as BigInt
 * (`safeIntegers`) and turning those of the other columns (ids, times) back
 * into numbers; any other statement as it is. Decided once per prepared
 * statement, by its result columns, so `select *` is covered too.
 */
export function withExactMoney(statement: DriverStatement): SqliteStatement {
  if (!statement.reader) return statement;
  const names = statement.columns().map((c) => c.name);
  if (!names.some(isMoneyColumn)) return statement;
  statement.safeIntegers(true);
  const convert = (row: unknown): unknown => {
    const out = row as Record<string, unknown>;
    for (const key of Object.keys(out)) {
      const value = out[key];
      // Integers are bigints now. A REAL among the money is exact only while
      // safe: SQLite stores an addition that overflows 64 bits as a rounded REAL.
      if (isMoneyColumn(key)) out[key] = unitsOf(key, value);
      else if (typeof value === 'bigint') out[key] = Number(value);
    }
    return out;
  };
  return {
    reader: true,
    all: (parameters) => statement.all(parameters).map(convert),
    run: (parameters) => statement.run(parameters),
    *iterate(parameters) {
      for (const row of statement.iterate(parameters)) yield convert(row);
    },
  };
}
