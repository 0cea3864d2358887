/**
 * Request generators for the endpoint fuzzer: a seeded random source,
 * hostile values, and mutations of a valid body. Everything here is
 * deterministic for a seed, so a failure can be replayed with FUZZ_SEED.
 */

/** mulberry32: small, fast, good enough to choose cases. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rng = () => number;

export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;

/**
 * Values that have broken parsers, databases and arithmetic elsewhere. No
 * string here is a host name, a URL off loopback or a ccxt exchange id
 * other than the simulated ones, so nothing a fuzzed request makes the
 * servers do can leave 127.0.0.1.
 */
export const HOSTILE: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  1,
  1.5,
  2 ** 31,
  2 ** 53 + 2,
  -(2 ** 63),
  1e21,
  1e308,
  -1e308,
  5e-324,
  '',
  ' ',
  '0',
  '-1',
  '1e999',
  '-1e-999',
  '0x10',
  'NaN',
  'Infinity',
  '１２３',
  'é',
  'É😀\u0000\u202e',
  '\ud800',
  '%00',
  '../..',
  "'; drop table fact_order; --",
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'a'.repeat(65),
  'b'.repeat(129),
  'c'.repeat(1025),
  'd'.repeat(70_000),
  [],
  [null],
  [1, 'two', { three: 3 }],
  {},
  { __proto__: { polluted: true } },
  JSON.parse('{"__proto__": {"polluted": true}}') as unknown,
  { toString: 'x', valueOf: 1 },
  nested(200),
];

function nested(depth: number): unknown {
  let value: unknown = 'deep';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { k: value };
  return value;
}

/** Every path to a value inside `body` (object keys and array indexes). */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function setAt(root: unknown, path: Array<string | number>, value: unknown, remove: boolean): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1) as string | number;
  if (remove) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = value;
  return copy;
}

/** A valid body with one to three fields changed, removed or added. */
export function mutate(rng: Rng, body: unknown, values: readonly unknown[] = HOSTILE): unknown {
  let out = structuredClone(body);
  const times = 1 + Math.floor(rng() * 3);
  for (let i = 0; i < times; i++) {
    const all = paths(out);
    const path = pick(rng, all);
    const roll = rng();
    if (roll < 0.15 && path.length > 0) out = setAt(out, path, undefined, true);
    else if (roll < 0.25 && out && typeof out === 'object' && !Array.isArray(out)) out = setAt(out, [pick(rng, ['extra', '__proto__', 'constructor', 'signal_id', 'accounts'])], pick(rng, values), false);
    else if (roll < 0.35 && path.length > 0) {
      // The same shape, twice: duplicated accounts, repeated orders.
      const parent = path.slice(0, -1);
      const arr = parent.reduce<unknown>((node, k) => (node as Record<string | number, unknown>)[k], out);
      if (Array.isArray(arr)) out = setAt(out, parent, [...arr, ...arr], false);
    } else out = setAt(out, path, pick(rng, values), false);
  }
  return out;
}

/** Bodies that are not a JSON object at all. */
export const RAW_BODIES: readonly string[] = [
  '',
  ' ',
  '{',
  '{"a":',
  '{"a":1,}',
  'null',
  '[]',
  '"text"',
  '123',
  '{"a":1}{"b":2}',
  '\u0000',
  '\ufeff{}',
  '{"a":"\\ud800"}',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `{"x":"${'y'.repeat(300_000)}"}`,
];
