import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { DialectName } from './connect.js';

/**
 * Migrations live in code, in order, and run on start and with
 * `tradectl center migrate`. Kysely's schema builder writes the DDL for both
 * dialects; only the id column differs.
 */
type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- migrations run before the typed schema exists

function idColumn(dialect: DialectName) {
  // SQLite only auto-increments an INTEGER PRIMARY KEY; MySQL wants BIGINT.
  return dialect === 'sqlite' ? ('integer' as const) : ('bigint' as const);
}

function initial(dialect: DialectName): Migration {
  const id = idColumn(dialect);
  const pk = <T extends { primaryKey(): T; autoIncrement(): T }>(c: T) => c.primaryKey().autoIncrement();
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('dim_execution_node')
        .addColumn('id', id, pk)
        .addColumn('node_code', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('name', 'varchar(128)')
        .addColumn('base_url', 'varchar(512)', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('last_heartbeat_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('source', 'varchar(16)', (c) => c.notNull().defaultTo('api'))
        .addColumn('version', 'varchar(64)')
        .addColumn('heartbeat_status', 'varchar(16)')
        .addColumn('uptime_seconds', 'bigint')
        .addColumn('in_flight', 'integer')
        .addColumn('capacity', 'integer')
        .addColumn('reported_url', 'varchar(512)')
        .execute();

      await db.schema
        .createTable('dim_user')
        .addColumn('id', id, pk)
        .addColumn('username', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('inviter_id', 'bigint')
        .addColumn('points_units', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('rewards_units', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('fact_exchange_account')
        .addColumn('id', id, pk)
        .addColumn('user_id', 'bigint', (c) => c.notNull())
        .addColumn('exchange', 'varchar(32)', (c) => c.notNull())
        .addColumn('label', 'varchar(128)')
        .addColumn('api_key_enc', 'text', (c) => c.notNull())
        .addColumn('api_secret_enc', 'text', (c) => c.notNull())
        .addColumn('passphrase_enc', 'text')
        .addColumn('api_key_hint', 'varchar(32)', (c) => c.notNull())
        .addColumn('sandbox', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('execution_node_id', 'bigint')
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('idx_account_node').on('fact_exchange_account').column('execution_node_id').execute();
      await db.schema.createIndex('idx_account_user').on('fact_exchange_account').column('user_id').execute();

      await db.schema
        .createTable('dim_strategy')
        .addColumn('id', id, pk)
        .addColumn('strategy_code', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('name', 'varchar(128)')
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('dim_strategy_binding')
        .addColumn('id', id, pk)
        .addColumn('strategy_id', 'bigint', (c) => c.notNull())
        .addColumn('account_id', 'bigint', (c) => c.notNull())
        .addColumn('multiplier', 'varchar(40)', (c) => c.notNull().defaultTo('1'))
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('uq_binding').unique().on('dim_strategy_binding').columns(['strategy_id', 'account_id']).execute();

      await db.schema
        .createTable('fact_signal')
        .addColumn('id', id, pk)
        .addColumn('signal_id', 'varchar(128)', (c) => c.notNull().unique())
        .addColumn('strategy_id', 'bigint', (c) => c.notNull())
        .addColumn('symbol', 'varchar(64)', (c) => c.notNull())
        .addColumn('side', 'varchar(8)', (c) => c.notNull())
        .addColumn('quantity', 'varchar(40)', (c) => c.notNull())
        .addColumn('order_type', 'varchar(16)', (c) => c.notNull())
        .addColumn('price', 'varchar(40)')
        .addColumn('stop_loss', 'varchar(40)')
        .addColumn('take_profit', 'varchar(40)')
        .addColumn('leverage', 'integer')
        .addColumn('request_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('accepted_at', 'bigint', (c) => c.notNull())
        .addColumn('dispatched_at', 'bigint')
        .addColumn('completed_at', 'bigint')
        .execute();

      await db.schema
        .createTable('fact_order')
        .addColumn('id', id, pk)
        .addColumn('signal_row_id', 'bigint', (c) => c.notNull())
        .addColumn('account_id', 'bigint', (c) => c.notNull())
        .addColumn('user_id', 'bigint', (c) => c.notNull())
        .addColumn('execution_node_id', 'bigint')
        .addColumn('client_order_id', 'varchar(40)', (c) => c.notNull())
        .addColumn('symbol', 'varchar(64)', (c) => c.notNull())
        .addColumn('side', 'varchar(8)', (c) => c.notNull())
        .addColumn('quantity', 'varchar(40)', (c) => c.notNull())
        .addColumn('status', 'varchar(24)', (c) => c.notNull())
        .addColumn('exchange_order_id', 'varchar(64)')
        .addColumn('filled_quantity', 'varchar(40)', (c) => c.notNull().defaultTo('0'))
        .addColumn('filled_price', 'varchar(40)')
        .addColumn('fee_cost', 'varchar(40)')
        .addColumn('fee_currency', 'varchar(16)')
        .addColumn('stop_loss_order_id', 'varchar(64)')
        .addColumn('take_profit_order_id', 'varchar(64)')
        .addColumn('stop_loss_error', 'varchar(1024)')
        .addColumn('take_profit_error', 'varchar(1024)')
        .addColumn('error_code', 'varchar(32)')
        .addColumn('error_message', 'varchar(1024)')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('dispatched_at', 'bigint')
        .addColumn('node_received_ms', 'integer')
        .addColumn('completed_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('uq_order_client_id').unique().on('fact_order').columns(['account_id', 'client_order_id']).execute();
      await db.schema.createIndex('uq_order_signal_account').unique().on('fact_order').columns(['signal_row_id', 'account_id']).execute();
      await db.schema.createIndex('idx_order_status').on('fact_order').columns(['status', 'updated_at']).execute();

      await db.schema
        .createTable('fact_fill')
        .addColumn('id', id, pk)
        .addColumn('order_id', 'bigint', (c) => c.notNull())
        .addColumn('cumulative_quantity', 'varchar(40)', (c) => c.notNull())
        .addColumn('quantity', 'varchar(40)', (c) => c.notNull())
        .addColumn('price', 'varchar(40)', (c) => c.notNull())
        .addColumn('notional_units', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('uq_fill').unique().on('fact_fill').columns(['order_id', 'cumulative_quantity']).execute();

      await db.schema
        .createTable('fact_account')
        .addColumn('id', id, pk)
        .addColumn('account_id', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'varchar(32)', (c) => c.notNull())
        .addColumn('total', 'double precision', (c) => c.notNull())
        .addColumn('free', 'double precision')
        .addColumn('used', 'double precision')
        .addColumn('synced_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('uq_balance').unique().on('fact_account').columns(['account_id', 'currency']).execute();

      await db.schema
        .createTable('fact_position')
        .addColumn('id', id, pk)
        .addColumn('account_id', 'bigint', (c) => c.notNull())
        .addColumn('symbol', 'varchar(64)', (c) => c.notNull())
        .addColumn('side', 'varchar(8)', (c) => c.notNull())
        .addColumn('contracts', 'double precision', (c) => c.notNull())
        .addColumn('entry_price', 'double precision')
        .addColumn('mark_price', 'double precision')
        .addColumn('notional', 'double precision')
        .addColumn('unrealized_pnl', 'double precision')
        .addColumn('leverage', 'double precision')
        .addColumn('liquidation_price', 'double precision')
        .addColumn('margin_mode', 'varchar(16)')
        .addColumn('synced_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('uq_position').unique().on('fact_position').columns(['account_id', 'symbol', 'side']).execute();

      await db.schema
        .createTable('fact_ledger')
        .addColumn('id', id, pk)
        .addColumn('entry_key', 'varchar(128)', (c) => c.notNull().unique())
        .addColumn('kind', 'varchar(32)', (c) => c.notNull())
        .addColumn('user_id', 'bigint')
        .addColumn('order_id', 'bigint')
        .addColumn('amount_units', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('idx_ledger_user').on('fact_ledger').column('user_id').execute();

      await db.schema
        .createTable('dim_profit_pool')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('balance_units', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.insertInto('dim_profit_pool').values({ id: 1, balance_units: 0, updated_at: Date.now() }).execute();
    },
    async down(db: AnyDb) {
      for (const table of [...INITIAL_TABLES].reverse()) await db.schema.dropTable(table).ifExists().execute();
    },
  };
}

/**
 * Stage timings of an order's first answer (issue #6): the node's durations
 * (queued, exchange) and the center's own (round trip, answer received,
 * results applied), so `GET /api/signals/{id}` can show where the time went.
 */
const orderStageTimings: Migration = {
  async up(db: AnyDb) {
    // One column per statement: SQLite's ALTER TABLE adds one at a time.
    await db.schema.alterTable('fact_order').addColumn('node_queued_ms', 'integer').execute();
    await db.schema.alterTable('fact_order').addColumn('node_exchange_ms', 'integer').execute();
    await db.schema.alterTable('fact_order').addColumn('round_trip_ms', 'integer').execute();
    await db.schema.alterTable('fact_order').addColumn('answered_at', 'bigint').execute();
    await db.schema.alterTable('fact_order').addColumn('applied_at', 'bigint').execute();
  },
  async down(db: AnyDb) {
    for (const column of ['applied_at', 'answered_at', 'round_trip_ms', 'node_exchange_ms', 'node_queued_ms']) {
      await db.schema.alterTable('fact_order').dropColumn(column).execute();
    }
  },
};

/**
 * A reduce-only signal was stored without its flag and went out as an
 * opening order (issue #15): the flag is a column of the signal now.
 * Signals accepted before it were all sent as opening orders, so 0 is what
 * they were.
 */
const signalReduceOnly: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('fact_signal').addColumn('reduce_only', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('fact_signal').dropColumn('reduce_only').execute();
  },
};

/** A signal may name the margin mode its orders are placed in (issue #18); older signals named none. */
const signalMarginMode: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('fact_signal').addColumn('margin_mode', 'varchar(16)').execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('fact_signal').dropColumn('margin_mode').execute();
  },
};

/**
 * Signal actions (close, reduce, reverse, update_protection, cancel) and
 * their fields. A signal that names no side or quantity (a close sized from
 * each account's position) keeps the existing NOT NULL columns with `''`
 * and `'0'`, which no open can hold (`db/signal-rows.ts`), so no table is
 * rebuilt on SQLite.
 */
const signalActions: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('fact_signal').addColumn('action', 'varchar(24)', (c) => c.notNull().defaultTo('open')).execute();
    await db.schema.alterTable('fact_signal').addColumn('position_side', 'varchar(8)').execute();
    await db.schema.alterTable('fact_signal').addColumn('close_fraction', 'varchar(40)').execute();
    await db.schema.alterTable('fact_signal').addColumn('cancel', 'varchar(16)').execute();
  },
  async down(db: AnyDb) {
    for (const column of ['cancel', 'close_fraction', 'position_side', 'action']) await db.schema.alterTable('fact_signal').dropColumn(column).execute();
  },
};

/** The tables of 0001, which 0004 made binary; tables added later are made binary as they are created. */
const INITIAL_TABLES = [
  'dim_execution_node',
  'dim_user',
  'fact_exchange_account',
  'dim_strategy',
  'dim_strategy_binding',
  'fact_signal',
  'fact_order',
  'fact_fill',
  'fact_account',
  'fact_position',
  'fact_ledger',
  'dim_profit_pool',
] as const;

/** Every table the migrations create; a new one joins this list. */
export const TABLES = [...INITIAL_TABLES, 'fact_order_leg', 'fact_leg_fill', 'fact_follower_position', 'fact_realised_pnl', 'fact_protective_order'] as const;

/**
 * The binary collation this MySQL or MariaDB server has, most exact first:
 * the NO PAD ones also tell `a` from `a ` (utf8mb4_bin pads).
 */
export async function binaryCollation(db: AnyDb): Promise<string> {
  const preferred = ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin', 'utf8mb4_bin'];
  const rows = await sql<{ name: string }>`select collation_name as name from information_schema.collations where collation_name in (${sql.join(preferred)})`.execute(db);
  const have = new Set(rows.rows.map((r) => r.name));
  return preferred.find((c) => have.has(c)) ?? 'utf8mb4_bin';
}

/**
 * Identifiers and idempotency keys compare byte for byte (issue #15). Under
 * MariaDB's default `utf8mb4_general_ci`, `Sig-A`, `sig-a` and `sig-á` were
 * one signal: the later ones answered `duplicate: true` and placed nothing,
 * and top-up key `invoice-7` was taken by `Invoice-7`. SQLite's default
 * collation was always binary; this makes MySQL's every text column the
 * same, on new and existing databases alike.
 */
function binaryText(dialect: DialectName): Migration {
  return {
    async up(db: AnyDb) {
      if (dialect !== 'mysql') return;
      const collation = await binaryCollation(db);
      for (const table of INITIAL_TABLES) await sql`alter table ${sql.table(table)} convert to character set utf8mb4 collate ${sql.raw(collation)}`.execute(db);
    },
    async down(db: AnyDb) {
      if (dialect !== 'mysql') return;
      for (const table of INITIAL_TABLES) await sql`alter table ${sql.table(table)} convert to character set utf8mb4 collate utf8mb4_general_ci`.execute(db);
    },
  };
}

/**
 * A caller's X-Request-Id may be 128 characters (`request-id.ts`) and is
 * stored with the signal it sent; the column held 64, so on MySQL a longer
 * one was a database error and the signal a 500.
 */
function requestIdLength(dialect: DialectName): Migration {
  return {
    async up(db: AnyDb) {
      // SQLite does not enforce varchar lengths.
      if (dialect === 'mysql') await db.schema.alterTable('fact_signal').modifyColumn('request_id', 'varchar(128)', (c) => c.notNull()).execute();
    },
    async down(db: AnyDb) {
      if (dialect === 'mysql') await db.schema.alterTable('fact_signal').modifyColumn('request_id', 'varchar(64)', (c) => c.notNull()).execute();
    },
  };
}

/**
 * When the reconciler last looked at an order. It takes the orders it looked
 * at least recently first, so orders it cannot settle now (their node is
 * offline: 500 of them filled a pass) no longer keep the others from their
 * turn, while still being looked at again on every pass they are due.
 */
const orderReconciledAt: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('fact_order').addColumn('reconciled_at', 'bigint').execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('fact_order').dropColumn('reconciled_at').execute();
  },
};

/**
 * The orders an action places besides its entry, one row each (a close or a
 * reduce's closing orders, a reverse's close), and their fills: each
 * exchange order's fills are booked once, on the order or on its leg, and
 * settled like an entry's.
 */
function orderLegs(dialect: DialectName): Migration {
  const id = idColumn(dialect);
  const pk = <T extends { primaryKey(): T; autoIncrement(): T }>(c: T) => c.primaryKey().autoIncrement();
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('fact_order_leg')
        .addColumn('id', id, pk)
        .addColumn('order_id', 'bigint', (c) => c.notNull())
        .addColumn('account_id', 'bigint', (c) => c.notNull())
        .addColumn('client_order_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('role', 'varchar(16)', (c) => c.notNull())
        .addColumn('position_side', 'varchar(8)', (c) => c.notNull())
        .addColumn('exchange_order_id', 'varchar(64)')
        .addColumn('status', 'varchar(24)', (c) => c.notNull())
        .addColumn('filled_quantity', 'varchar(40)', (c) => c.notNull())
        .addColumn('filled_price', 'varchar(40)')
        .addColumn('fee_cost', 'varchar(40)')
        .addColumn('fee_currency', 'varchar(16)')
        .addColumn('position_before', 'varchar(40)')
        .addColumn('position_after', 'varchar(40)')
        .addColumn('error_code', 'varchar(32)')
        .addColumn('error_message', 'varchar(1000)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('uq_leg_client_id').unique().on('fact_order_leg').columns(['account_id', 'client_order_id']).execute();
      await db.schema.createIndex('idx_leg_order').on('fact_order_leg').column('order_id').execute();
      await db.schema
        .createTable('fact_leg_fill')
        .addColumn('id', id, pk)
        .addColumn('leg_id', 'bigint', (c) => c.notNull())
        .addColumn('order_id', 'bigint', (c) => c.notNull())
        .addColumn('cumulative_quantity', 'varchar(40)', (c) => c.notNull())
        .addColumn('quantity', 'varchar(40)', (c) => c.notNull())
        .addColumn('price', 'varchar(40)', (c) => c.notNull())
        .addColumn('notional_units', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('uq_leg_fill').unique().on('fact_leg_fill').columns(['leg_id', 'cumulative_quantity']).execute();
      if (dialect === 'mysql') {
        const collation = await binaryCollation(db);
        for (const table of ['fact_order_leg', 'fact_leg_fill']) await sql`alter table ${sql.table(table)} convert to character set utf8mb4 collate ${sql.raw(collation)}`.execute(db);
      }
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('fact_leg_fill').ifExists().execute();
      await db.schema.dropTable('fact_order_leg').ifExists().execute();
    },
  };
}

/**
 * Each follower's position as tradectl's fills make it, per (account,
 * symbol, side), and the profit or loss each closing fill realised against
 * it: what drift is measured against, and what settlement on profit and
 * reports read.
 */
function followerPositions(dialect: DialectName): Migration {
  const id = idColumn(dialect);
  const pk = <T extends { primaryKey(): T; autoIncrement(): T }>(c: T) => c.primaryKey().autoIncrement();
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('fact_follower_position')
        .addColumn('id', id, pk)
        .addColumn('account_id', 'bigint', (c) => c.notNull())
        .addColumn('symbol', 'varchar(64)', (c) => c.notNull())
        .addColumn('side', 'varchar(8)', (c) => c.notNull())
        .addColumn('quantity', 'varchar(40)', (c) => c.notNull())
        .addColumn('entry_price', 'varchar(40)')
        .addColumn('realised_pnl', 'varchar(40)', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('uq_follower_position').unique().on('fact_follower_position').columns(['account_id', 'symbol', 'side']).execute();
      await db.schema
        .createTable('fact_realised_pnl')
        .addColumn('id', id, pk)
        .addColumn('account_id', 'bigint', (c) => c.notNull())
        .addColumn('user_id', 'bigint', (c) => c.notNull())
        .addColumn('order_id', 'bigint', (c) => c.notNull())
        .addColumn('fill_key', 'varchar(80)', (c) => c.notNull())
        .addColumn('symbol', 'varchar(64)', (c) => c.notNull())
        .addColumn('side', 'varchar(8)', (c) => c.notNull())
        .addColumn('quantity', 'varchar(40)', (c) => c.notNull())
        .addColumn('entry_price', 'varchar(40)', (c) => c.notNull())
        .addColumn('exit_price', 'varchar(40)', (c) => c.notNull())
        .addColumn('gross_pnl', 'varchar(40)', (c) => c.notNull())
        .addColumn('fee', 'varchar(40)', (c) => c.notNull())
        .addColumn('net_pnl', 'varchar(40)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('uq_realised_fill').unique().on('fact_realised_pnl').columns(['order_id', 'fill_key']).execute();
      // What the exchange holds, in the base currency (contracts × contract size), and when the account's positions were last read.
      await db.schema.alterTable('fact_position').addColumn('size', 'double precision').execute();
      await db.schema.alterTable('fact_exchange_account').addColumn('positions_synced_at', 'bigint').execute();
      // The position mode the account's node last reported: fills found by a lookup (which says none) are booked by it.
      await db.schema.alterTable('fact_exchange_account').addColumn('position_mode', 'varchar(8)').execute();
      await db.schema.createIndex('idx_realised_account').on('fact_realised_pnl').columns(['account_id', 'created_at']).execute();
      if (dialect === 'mysql') {
        const collation = await binaryCollation(db);
        for (const table of ['fact_follower_position', 'fact_realised_pnl']) await sql`alter table ${sql.table(table)} convert to character set utf8mb4 collate ${sql.raw(collation)}`.execute(db);
      }
    },
    async down(db: AnyDb) {
      await db.schema.alterTable('fact_exchange_account').dropColumn('position_mode').execute();
      await db.schema.alterTable('fact_exchange_account').dropColumn('positions_synced_at').execute();
      await db.schema.alterTable('fact_position').dropColumn('size').execute();
      await db.schema.dropTable('fact_realised_pnl').ifExists().execute();
      await db.schema.dropTable('fact_follower_position').ifExists().execute();
    },
  };
}

/**
 * The stop-losses and take-profits that protect each follower's position, as
 * the nodes last reported them: placed (`live`), then `canceled` or `gone`
 * once an action cancelled or replaced them. With the position book, it
 * shows what protects each position, and what outlived it. An order's
 * `protected_quantity` is how much of its entry its own protection covers,
 * so the protection pass can tell a stop a later fill outgrew. The position
 * book also keeps what opening each position paid in fees, so that a close
 * realises its PnL net of both sides' fees.
 */
function protectiveOrders(dialect: DialectName): Migration {
  const id = idColumn(dialect);
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('fact_protective_order')
        .addColumn('id', id, (c) => c.primaryKey().autoIncrement())
        .addColumn('account_id', 'bigint', (c) => c.notNull())
        .addColumn('order_id', 'bigint', (c) => c.notNull())
        .addColumn('symbol', 'varchar(64)', (c) => c.notNull())
        .addColumn('side', 'varchar(8)', (c) => c.notNull())
        .addColumn('leg', 'varchar(16)', (c) => c.notNull())
        .addColumn('client_order_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('exchange_order_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('amount', 'varchar(40)', (c) => c.notNull())
        .addColumn('trigger_price', 'varchar(40)', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      // Exchange ids are unique per symbol on some exchanges, not per account.
      await db.schema.createIndex('uq_protective_order').unique().on('fact_protective_order').columns(['account_id', 'symbol', 'exchange_order_id']).execute();
      await db.schema.createIndex('idx_protective_position').on('fact_protective_order').columns(['account_id', 'symbol', 'side', 'state']).execute();
      await db.schema.alterTable('fact_order').addColumn('protected_quantity', 'varchar(40)').execute();
      // What a node can do, from its heartbeat: the center sends protect-only resends only to nodes that honour them.
      await db.schema.alterTable('dim_execution_node').addColumn('features', 'varchar(255)').execute();
      // Realised PnL nets the entry's fees too: what opening the held quantity paid, and each close's share of it.
      await db.schema.alterTable('fact_follower_position').addColumn('entry_fees', 'varchar(40)', (c) => c.notNull().defaultTo('0')).execute();
      await db.schema.alterTable('fact_realised_pnl').addColumn('entry_fee', 'varchar(40)', (c) => c.notNull().defaultTo('0')).execute();
      if (dialect === 'mysql') {
        const collation = await binaryCollation(db);
        await sql`alter table fact_protective_order convert to character set utf8mb4 collate ${sql.raw(collation)}`.execute(db);
      }
    },
    async down(db: AnyDb) {
      await db.schema.alterTable('dim_execution_node').dropColumn('features').execute();
      await db.schema.alterTable('fact_realised_pnl').dropColumn('entry_fee').execute();
      await db.schema.alterTable('fact_follower_position').dropColumn('entry_fees').execute();
      await db.schema.alterTable('fact_order').dropColumn('protected_quantity').execute();
      await db.schema.dropTable('fact_protective_order').ifExists().execute();
    },
  };
}

/**
 * Sizing per binding (issue #20): how each follower's open is sized
 * (`sizing`, `sizing_value`, `min_size`, `max_position_notional`) and at
 * what leverage and margin mode, on the binding and as the strategy's
 * defaults; null everywhere is the behaviour before (quantity × multiplier,
 * the signal's leverage). Each order keeps the spec it is sent with, so a
 * resend sends the same, and what the node chose.
 */
const bindingSizing: Migration = {
  async up(db: AnyDb) {
    for (const table of ['dim_strategy', 'dim_strategy_binding']) {
      await db.schema.alterTable(table).addColumn('sizing', 'varchar(24)').execute();
      await db.schema.alterTable(table).addColumn('sizing_value', 'varchar(40)').execute();
      await db.schema.alterTable(table).addColumn('min_size', 'varchar(16)').execute();
      await db.schema.alterTable(table).addColumn('max_position_notional', 'varchar(40)').execute();
      await db.schema.alterTable(table).addColumn('leverage', 'integer').execute();
      await db.schema.alterTable(table).addColumn('margin_mode', 'varchar(16)').execute();
    }
    await db.schema.alterTable('fact_order').addColumn('sizing', 'varchar(255)').execute();
    await db.schema.alterTable('fact_order').addColumn('sizing_report', 'text').execute();
    await db.schema.alterTable('fact_order').addColumn('leverage', 'integer').execute();
    await db.schema.alterTable('fact_order').addColumn('margin_mode', 'varchar(16)').execute();
  },
  async down(db: AnyDb) {
    for (const column of ['margin_mode', 'leverage', 'sizing_report', 'sizing']) await db.schema.alterTable('fact_order').dropColumn(column).execute();
    for (const table of ['dim_strategy_binding', 'dim_strategy']) {
      for (const column of ['margin_mode', 'leverage', 'max_position_notional', 'min_size', 'sizing_value', 'sizing']) await db.schema.alterTable(table).dropColumn(column).execute();
    }
  },
};

export function migrationsFor(dialect: DialectName): Record<string, Migration> {
  return {
    '0001_initial': initial(dialect),
    '0002_order_stage_timings': orderStageTimings,
    '0003_signal_reduce_only': signalReduceOnly,
    '0004_binary_text': binaryText(dialect),
    '0005_request_id_length': requestIdLength(dialect),
    '0006_order_reconciled_at': orderReconciledAt,
    '0007_signal_margin_mode': signalMarginMode,
    '0008_signal_actions': signalActions,
    '0009_order_legs': orderLegs(dialect),
    '0010_follower_positions': followerPositions(dialect),
    '0011_protective_orders': protectiveOrders(dialect),
    '0012_binding_sizing': bindingSizing,
  };
}

export interface MigrationReport {
  applied: string[];
  current: string[];
}

/** Brings the schema up to date; safe to run on every start and from several processes. */
export async function migrateToLatest(kysely: AnyDb, dialect: DialectName): Promise<MigrationReport> {
  const provider: MigrationProvider = { getMigrations: async () => migrationsFor(dialect) };
  const migrator = new Migrator({ db: kysely, provider, migrationTableName: 'tradectl_migration', migrationLockTableName: 'tradectl_migration_lock' });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  const current = (await migrator.getMigrations()).filter((m) => m.executedAt).map((m) => m.name);
  return { applied, current };
}
