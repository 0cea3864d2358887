import { readFileSync } from 'node:fs';

/** The parts of a V8 `.cpuprofile` (written by `node --cpu-prof`) this summary reads. */
interface CpuProfile {
  /** Microseconds on the system's monotonic clock, the one process.hrtime() reads in any process. */
  startTime: number;
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  total_ms: number;
  /** Self time by where the code comes from (a package, our src/, node internals, GC, idle). */
  by_origin: Array<{ origin: string; ms: number; share: number }>;
  /** Self time by function, busiest first (idle and the profiler excluded). */
  top_functions: Array<{ fn: string; ms: number; share: number }>;
}

function originOf(url: string, name: string): string {
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name;
  if (url === '') return '(native / V8)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith('node:')) return 'node internals';
  const src = /\/(?:src|dist)\/([a-z]+)\//.exec(url);
  if (src) return `tradectl ${src[1]}`;
  return url.replace(/^.*\//, '');
}

/** Now on the clock V8 stamps CPU profiles with, for `summariseProfile`'s windows. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Self time per function and per origin from one V8 CPU profile: the
 * samples' time deltas summed by the frame they landed in. With `windows`
 * (from `monotonicUs()`) only samples inside them count, so a profile of a
 * whole process can show the measured signals without its start-up and
 * warm-up.
 */
export function summariseProfile(file: string, top = 15, windows?: Array<[number, number]>): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (windows && !windows.some(([from, to]) => at >= from && at <= to)) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const origins = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    total += us;
    const origin = originOf(frame.url, frame.functionName);
    origins.set(origin, (origins.get(origin) ?? 0) + us);
    if (origin === '(idle)' || origin === '(program)') continue;
    const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|src|dist)\//, '$1/')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'} ${where}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const busy = total - (origins.get('(idle)') ?? 0);
  const rows = (m: Map<string, number>, denominator: number) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, us]) => ({ k, ms: Math.round(us / 100) / 10, share: Math.round((1000 * us) / denominator) / 10 }));
  return {
    file,
    total_ms: Math.round(total / 1000),
    by_origin: rows(origins, total).map(({ k, ms, share }) => ({ origin: k, ms, share })),
    top_functions: rows(fns, busy).slice(0, top).map(({ k, ms, share }) => ({ fn: k, ms, share })),
  };
}
