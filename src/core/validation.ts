import * as v from 'valibot';

export interface FieldIssue {
  /** Dotted path with array indexes, e.g. `accounts[2].api_key`; `(body)` for the whole value. */
  field: string;
  message: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] };

/** Valibot's issue path as a field name a human recognises. */
export function fieldOf(issue: v.BaseIssue<unknown>): string {
  let out = '';
  for (const item of issue.path ?? []) {
    const key = item.key;
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(body)' : out;
}

function messageOf(issue: v.BaseIssue<unknown>): string {
  // Valibot's default messages say "Invalid type: Expected string but received
  // undefined"; a missing key deserves a plainer sentence.
  if (issue.kind === 'schema' && issue.input === undefined && issue.type !== 'union') return 'is required';
  return issue.message;
}

/** Every issue of a failed parse, as `field: message` pairs, deepest first per field. */
export function formatIssues(issues: readonly v.BaseIssue<unknown>[]): FieldIssue[] {
  const seen = new Set<string>();
  const out: FieldIssue[] = [];
  for (const issue of issues) {
    const field = fieldOf(issue);
    if (seen.has(field)) continue;
    seen.add(field);
    out.push({ field, message: messageOf(issue) });
  }
  return out;
}

export function parseWith<S extends v.GenericSchema>(schema: S, input: unknown): Parsed<v.InferOutput<S>> {
  const result = v.safeParse(schema, input, { abortPipeEarly: true });
  if (result.success) return { ok: true, value: result.output };
  return { ok: false, issues: formatIssues(result.issues) };
}
