import { MysqlAdapter, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { SettlementRules } from '../settle/settlement.js';
import { APPLY_CHUNK, applyOutcomes, type ApplyItem, type ApplyOutcome } from './apply-results.js';

interface Waiting {
  items: readonly ApplyItem[];
  /** When it was submitted (performance.now()), for the linger's deadline. */
  at: number;
  resolve(results: Array<ApplyOutcome | Error>): void;
  reject(error: unknown): void;
}

/** Orders one pass takes from the waiting answers (each pass still writes `APPLY_CHUNK` per transaction). */
const PASS_ORDERS = 4 * APPLY_CHUNK;

/** Waiting orders worth a transaction of their own: once this many wait, they are applied without lingering. */
export const GROUP_ORDERS = APPLY_CHUNK;

/** The longest an answer waits for others before it is applied, while more answers are expected. */
export const LINGER_MS = 25;

/** How answers are grouped into passes; `passes`: how many may run at once. */
export interface Grouping {
  lingerMs: number;
  groupOrders: number;
  passes: number;
}

function defaultGrouping(db: Kysely<Database>): Grouping {
  return { lingerMs: LINGER_MS, groupOrders: GROUP_ORDERS, passes: db.getExecutor().adapter instanceof MysqlAdapter ? 2 : 1 };
}

/** A node request whose answer this queue will apply; `done()` once it is submitted or will not come. */
export interface ExpectedAnswer {
  done(): void;
}

/**
 * Group commit for node answers: answers that arrive while this process is
 * applying others wait and are applied together in the next pass, in
 * transactions of up to `APPLY_CHUNK` orders. With 20 answers landing within
 * a few hundred ms, one transaction per answer meant 20 sets of settlement
 * statements and commits, and on MySQL 20 concurrent transactions queueing
 * on the same inviter and profit-pool rows (docs/performance.md). Every item
 * keeps `applyOutcomes`' guarantees; each caller gets
 * the results of its own items, in order.
 *
 * While other answers are expected (requests in flight, `expectAnswer`), an
 * answer smaller than `GROUP_ORDERS` also waits up to `LINGER_MS` for them,
 * like PostgreSQL's commit_delay with commit_siblings: a signal's answers
 * arrive ~15 ms apart, rarely while another is being applied, and each
 * transaction rewrites the pages that they all touch (users, the ledger's
 * indexes), so fewer, larger transactions cost less CPU. The last answer
 * expected is applied at once, with whatever still waits.
 *
 * On MySQL, the answer that ends a signal (no other answer expected) does
 * not wait for a pass in flight: a second pass applies it on another
 * connection, so a signal completes sooner.
 * Two passes with the same order queue on its row lock (`applyChunk` reads
 * orders FOR UPDATE), both lock users in key order and the pool row last,
 * and `transact` reruns a transaction InnoDB aborts to break a deadlock.
 * SQLite has one writer: one pass.
 */
export class GroupCommit {
  readonly #waiting: Waiting[] = [];
  #waitingOrders = 0;
  /** Drain loops running, and how many of them are applying a pass (not lingering). */
  #draining = 0;
  #inPass = 0;
  #expected = 0;
  readonly #wakers = new Set<() => void>();

  readonly #grouping: Grouping;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly rules: SettlementRules,
    grouping: Partial<Grouping> = {},
  ) {
    this.#grouping = { ...defaultGrouping(db), ...grouping };
  }

  apply(items: readonly ApplyItem[]): Promise<Array<ApplyOutcome | Error>> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ items, at: performance.now(), resolve, reject });
      this.#waitingOrders += items.length;
      // `<= 1`: this answer's own expectation ends just after it is submitted.
      const last = this.#expected <= 1;
      if (this.#draining === 0 || (last && this.#inPass === this.#draining && this.#draining < this.#grouping.passes)) void this.#drain();
      else this.#wake();
    });
  }

  #wake(): void {
    for (const wake of this.#wakers) wake();
  }

  /**
   * Counts a request whose answer will be applied here until `done()` (call
   * it after `apply` has taken the answer, or when none will come; a second
   * call does nothing), so waiting answers linger for it.
   */
  expectAnswer(): ExpectedAnswer {
    this.#expected++;
    let pending = true;
    return {
      done: () => {
        if (!pending) return;
        pending = false;
        this.#expected--;
        this.#wake();
      },
    };
  }

  /** Waits while lingering is worth it: answers are expected, the waiting ones are few, and the oldest is young. */
  async #linger(): Promise<void> {
    for (;;) {
      const oldest = this.#waiting[0];
      if (!oldest || this.#expected === 0 || this.#waitingOrders >= this.#grouping.groupOrders) return;
      const left = oldest.at + this.#grouping.lingerMs - performance.now();
      if (left <= 0) return;
      let wake = (): void => undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
        this.#wakers.add(wake);
      });
      this.#wakers.delete(wake);
    }
  }

  async #drain(): Promise<void> {
    this.#draining++;
    try {
      while (this.#waiting.length > 0) {
        await this.#linger();
        // Another loop may have taken them while this one lingered.
        if (this.#waiting.length === 0) break;
        const pass: Waiting[] = [];
        let orders = 0;
        while (this.#waiting.length > 0 && (pass.length === 0 || orders + (this.#waiting[0] as Waiting).items.length <= PASS_ORDERS)) {
          const next = this.#waiting.shift() as Waiting;
          pass.push(next);
          orders += next.items.length;
        }
        this.#waitingOrders -= orders;
        this.#inPass++;
        try {
          const results = await applyOutcomes(this.db, pass.flatMap((w) => w.items), this.rules);
          let offset = 0;
          for (const w of pass) {
            w.resolve(results.slice(offset, offset + w.items.length));
            offset += w.items.length;
          }
        } catch (error) {
          for (const w of pass) w.reject(error);
        } finally {
          this.#inPass--;
        }
      }
    } finally {
      this.#draining--;
    }
  }
}

const queues = new WeakMap<Kysely<Database>, WeakMap<SettlementRules, GroupCommit>>();

/**
 * The process's queue for this database and these settlement rules (one per
 * center context): keyed by both, so a context never settles with another's rules.
 */
export function groupCommitFor(db: Kysely<Database>, rules: SettlementRules): GroupCommit {
  let byRules = queues.get(db);
  if (!byRules) {
    byRules = new WeakMap();
    queues.set(db, byRules);
  }
  let queue = byRules.get(rules);
  if (!queue) {
    queue = new GroupCommit(db, rules);
    byRules.set(rules, queue);
  }
  return queue;
}
