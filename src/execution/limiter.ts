/**
 * A FIFO semaphore: at most `capacity` tasks run at once. `active` and
 * `queued` feed `/health` and the heartbeat.
 */
export interface Limiter {
  readonly capacity: number;
  readonly active: number;
  readonly queued: number;
  run<T>(task: () => Promise<T>): Promise<T>;
}

export function createLimiter(capacity: number): Limiter {
  let active = 0;
  const waiting: Array<() => void> = [];

  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };

  return {
    capacity,
    get active() {
      return active;
    },
    get queued() {
      return waiting.length;
    },
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (active < capacity) active++;
      // The releasing task hands its slot straight to us, so `active` stays put.
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}

export type Deadline<T> = { done: true; value: T } | { done: false };

/**
 * Waits for `work` at most `ms`. The work itself is not cancelled (a request
 * already sent to an exchange cannot be recalled); callers record what had
 * happened by the deadline and let the rest finish in the background.
 */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<Deadline<T>> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<Deadline<T>>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  return Promise.race([work.then((value): Deadline<T> => ({ done: true, value })), expired]).finally(() => clearTimeout(timer));
}
