import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { SettlementRules } from '../settle/settlement.js';
import { APPLY_CHUNK, applyOutcomes, type ApplyItem, type ApplyOutcome } from './apply-results.js';

interface Waiting {
  items: readonly ApplyItem[];
  resolve(results: Array<ApplyOutcome | Error>): void;
  reject(error: unknown): void;
}

/** Orders one pass takes from the waiting answers (each pass still writes `APPLY_CHUNK` per transaction). */
const PASS_ORDERS = 4 * APPLY_CHUNK;

/**
 * Group commit for node answers: answers that arrive while this process is
 * applying others wait and are applied together in the next pass, in
 * transactions of up to `APPLY_CHUNK` orders. With 20 answers landing within
 * a few hundred ms, one transaction per answer meant 20 sets of settlement
 * statements and commits, and on MySQL 20 concurrent transactions queueing
 * on the same inviter and profit-pool rows (15-100 ms per answer, bench
 * fan-out). Every item keeps `applyOutcomes`' guarantees; each caller gets
 * the results of its own items, in order.
 */
export class ApplyQueue {
  readonly #waiting: Waiting[] = [];
  #running = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly rules: SettlementRules,
  ) {}

  apply(items: readonly ApplyItem[]): Promise<Array<ApplyOutcome | Error>> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ items, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#waiting.length > 0) {
        const pass: Waiting[] = [];
        let orders = 0;
        while (this.#waiting.length > 0 && (pass.length === 0 || orders + (this.#waiting[0] as Waiting).items.length <= PASS_ORDERS)) {
          const next = this.#waiting.shift() as Waiting;
          pass.push(next);
          orders += next.items.length;
        }
        try {
          const results = await applyOutcomes(this.db, pass.flatMap((w) => w.items), this.rules);
          let offset = 0;
          for (const w of pass) {
            w.resolve(results.slice(offset, offset + w.items.length));
            offset += w.items.length;
          }
        } catch (error) {
          for (const w of pass) w.reject(error);
        }
      }
    } finally {
      this.#running = false;
    }
  }
}

const queues = new WeakMap<Kysely<Database>, WeakMap<SettlementRules, ApplyQueue>>();

/**
 * The process's queue for this database and these settlement rules (one per
 * center context): keyed by both, so a context never settles with another's rules.
 */
export function applyQueueFor(db: Kysely<Database>, rules: SettlementRules): ApplyQueue {
  let byRules = queues.get(db);
  if (!byRules) {
    byRules = new WeakMap();
    queues.set(db, byRules);
  }
  let queue = byRules.get(rules);
  if (!queue) {
    queue = new ApplyQueue(db, rules);
    byRules.set(rules, queue);
  }
  return queue;
}
