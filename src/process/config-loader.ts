import { existsSync, readFileSync } from 'node:fs';
import * as v from 'valibot';
import { yamlModule } from './yaml-module.js';
import { fieldOf } from '../core/validation.js';
import { ExitError } from './exit-error.js';

export const DEFAULT_CONFIG_PATH = 'config/default.yaml';

/** What a process's configuration is made of. */
export interface ConfigSpec<S extends v.GenericSchema> {
  schema: S;
  /** Every key the schema reads. */
  keys: readonly string[];
  /** Keys also read from their bare upper-case name (`NODE_CODE`), as the original deployment sets them. */
  seedEnvKeys: readonly string[];
  /** Keys that belong to other tradectl processes sharing the file; ignored here. */
  foreignKeys: readonly string[];
}

export interface ConfigInput {
  /** `--config`; when absent, `TRADECTL_CONFIG`, then `config/default.yaml` if it exists. */
  configPath?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** Values from command-line flags, by config key. */
  flags: Readonly<Record<string, unknown>>;
}

export class ConfigError extends ExitError {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`, 2);
  }
}

const SECRET_KEY = /secret|password|token|passphrase|master_key/i;

/** A value as an error message may show it: secret keys hidden, passwords in URLs masked. */
function shown(key: string, value: unknown): string {
  if (SECRET_KEY.test(key)) return '[redacted]';
  const raw = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  // db_url / redis_url carry a password in the userinfo part.
  const text = raw.replace(/(\/\/[^\s/:@"]*:)[^\s/@"]*@/g, '$1***@');
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function readYaml(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`${path}: cannot read the config file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
  }
  const { parse: parseYaml, YAMLParseError } = yamlModule();
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` at line ${error.linePos[0].line}` : '';
    throw new ConfigError([`${path}: not valid YAML${where}: ${(error as Error).message.split('\n')[0]}`]);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError([`${path}: expected a mapping of key: value at the top level`]);
  return doc as Record<string, unknown>;
}

/**
 * Builds a process's configuration: defaults (inside the schema), then the
 * YAML file, then environment variables (`TRADECTL_<KEY>`, then the original deployment's
 * bare names), then flags. Every problem is reported at once, each naming
 * the key, what was expected and where the value came from.
 */
export function loadConfig<S extends v.GenericSchema>(spec: ConfigSpec<S>, input: ConfigInput): v.InferOutput<S> {
  const merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  const problems: string[] = [];
  const known = new Set(spec.keys);
  const foreign = new Set(spec.foreignKeys);

  const explicitPath = input.configPath ?? input.env['TRADECTL_CONFIG'];
  const path = explicitPath ?? (existsSync(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : undefined);
  if (path) {
    if (explicitPath && !existsSync(path)) throw new ConfigError([`${path}: config file not found`]);
    for (const [key, value] of Object.entries(readYaml(path))) {
      if (!known.has(key)) {
        if (!foreign.has(key)) problems.push(`${key}: unknown key in ${path} (a typo? see config/default.yaml for every key)`);
        continue;
      }
      if (value === null) continue;
      merged[key] = value;
      origin[key] = path;
    }
  }

  for (const key of spec.keys) {
    const names = [`TRADECTL_${key.toUpperCase()}`];
    if (spec.seedEnvKeys.includes(key)) names.push(key.toUpperCase());
    for (const name of names) {
      const value = input.env[name];
      if (value === undefined || value === '') continue;
      merged[key] = value;
      origin[key] = `env ${name}`;
      break;
    }
  }

  for (const [key, value] of Object.entries(input.flags)) {
    if (value === undefined) continue;
    merged[key] = value;
    origin[key] = `--${key.replace(/_/g, '-')}`;
  }

  const result = v.safeParse(spec.schema, merged);
  if (!result.success) {
    const seen = new Set<string>();
    for (const issue of result.issues) {
      const key = fieldOf(issue);
      if (seen.has(key)) continue;
      seen.add(key);
      const top = key.split(/[.[]/)[0] ?? key;
      const from = origin[top];
      const got = from !== undefined ? ` (got ${shown(top, merged[top])} from ${from})` : '';
      problems.push(`${key}: ${issue.message}${got}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return (result as v.SafeParseResult<S> & { output: v.InferOutput<S> }).output;
}
