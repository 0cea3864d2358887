import * as v from 'valibot';
import {
  booleanSetting,
  choiceSetting,
  integerSetting,
  listSetting,
  optionalIntegerSetting,
  secondsSetting,
  textSetting,
} from '../core/settings.js';
import { NODE_CODE_PATTERN } from '../core/wire-heartbeat.js';
import { ExecutionSettings } from '../execution/settings.js';
import { LogSettings } from '../core/settings.js';
import { hostNames } from '../http/request-guards.js';

const nodeEntry = v.object({
  node_code: v.pipe(v.string('expected a node_code'), v.regex(NODE_CODE_PATTERN, 'expected letters, digits, ".", "_" or "-"')),
  base_url: v.pipe(v.string('expected a base_url'), v.regex(/^https?:\/\/[^\s/]+/i, 'expected a URL starting with http:// or https://')),
  name: v.optional(v.string()),
});

/** A YAML list, or JSON text from an environment variable. */
const executionNodes = v.optional(
  v.pipe(
    v.nullable(v.union([v.array(v.unknown()), v.string()], 'expected a list of {node_code, base_url, name?}')),
    v.transform((x): unknown => {
      if (x === null || x === '') return [];
      if (typeof x !== 'string') return x;
      try {
        return JSON.parse(x) as unknown;
      } catch {
        return 'invalid';
      }
    }),
    v.array(nodeEntry, 'expected a list of {node_code, base_url, name?} (JSON in an environment variable)'),
  ),
  [],
);

/** Center-only keys; the node's loader ignores them in a shared file. */
export const CenterOnlyEntries = {
  center_host: textSetting(),
  center_port: integerSetting(0, 65535, 8080),
  center_api_token: textSetting(),
  center_allowed_hosts: hostNames(),
  data_dir: v.optional(textSetting(), 'data'),
  db_url: textSetting(),
  db_host: textSetting(),
  db_port: integerSetting(1, 65535, 3306),
  db_user: textSetting(),
  db_password: textSetting(),
  db_name: textSetting(),
  master_key: textSetting(),
  master_key_file: textSetting(),
  execution_nodes: executionNodes,
  node_heartbeat_timeout: secondsSetting(1, 86_400, 120),
  node_request_timeout: secondsSetting(1, 600, 35),
  fallback_to_local: booleanSetting(false),
  reconcile_interval: secondsSetting(0.1, 3600, 15),
  reconcile_after: secondsSetting(1, 86_400, 60),
  signal_max_age: secondsSetting(0, 86_400, 120),
  protect_window: secondsSetting(0, 90 * 86_400, 7 * 86_400),
  use_node_execution_queue: booleanSetting(false),
  node_execute_queue: v.optional(v.pipe(textSetting(), v.check((x) => x === undefined || /^[A-Za-z0-9:._-]{1,64}$/.test(x), 'expected 1-64 letters, digits or :._-')), 'node-execute'),
  node_execute_poll_timeout: secondsSetting(0.1, 3600, 30),
  queue_visibility_timeout: secondsSetting(1, 86_400, 60),
  queue_max_attempts: integerSetting(1, 100, 5),
  worker_concurrency: integerSetting(1, 1000, 8),
  worker_metrics_port: optionalIntegerSetting(0, 65535),
  worker_metrics_host: textSetting(),
  redis_url: v.pipe(textSetting(), v.check((x) => x === undefined || /^rediss?:\/\//i.test(x), 'expected a redis:// or rediss:// URL')),
  redis_host: textSetting(),
  redis_port: integerSetting(1, 65535, 6379),
  redis_password: textSetting(),
  redis_db: integerSetting(0, 1000, 0),
  require_points: booleanSetting(false),
  fee_rate: v.optional(
    v.pipe(v.union([v.number(), v.string()]), v.transform(Number), v.check((n) => Number.isFinite(n) && n >= 0 && n < 1, 'expected a fraction from 0 to below 1')),
    0.001,
  ),
  referral_shares: v.pipe(
    listSetting(['0.2', '0.1']),
    v.transform((items) => items.map(Number)),
    v.check((shares) => shares.every((n) => Number.isFinite(n) && n >= 0 && n < 1), 'expected fractions from 0 to below 1, e.g. [0.2, 0.1]'),
    v.check((shares) => shares.reduce((a, b) => a + b, 0) <= 1, 'the shares add up to more than the whole fee'),
  ),
};

/**
 * `tradectl center serve`: center keys plus the execution settings it uses
 * for accounts that run in the center itself, and the shared node secret.
 */
export const CenterConfigEntries = {
  ...LogSettings,
  ...ExecutionSettings,
  node_auth_secret: textSetting(),
  node_auth_mode: choiceSetting(['any', 'token', 'hmac'], 'any'),
  metrics_token: textSetting(),
  ...CenterOnlyEntries,
};

export const CenterConfigSchema = v.pipe(
  v.object(CenterConfigEntries),
  v.forward(v.check((c) => c.center_api_token === undefined || c.center_api_token.length >= 16, 'expected at least 16 characters'), ['center_api_token']),
  v.forward(v.check((c) => c.metrics_token === undefined || c.metrics_token.length >= 16, 'expected at least 16 characters'), ['metrics_token']),
  v.forward(
    v.check((c) => c.node_auth_secret === undefined || c.node_auth_secret.length >= 16, 'expected at least 16 characters'),
    ['node_auth_secret'],
  ),
  v.forward(
    v.check((c) => c.reconcile_after > c.node_request_timeout, 'must be longer than node_request_timeout, or orders still being sent would be looked up'),
    ['reconcile_after'],
  ),
  v.forward(
    v.check((c) => c.queue_visibility_timeout > c.node_request_timeout, 'must be longer than node_request_timeout, or a job still being sent would be given to another worker'),
    ['queue_visibility_timeout'],
  ),
  v.forward(v.check((c) => !(c.redis_url && c.redis_host), 'set redis_url or the redis_* keys, not both'), ['redis_url']),
  v.forward(v.check((c) => !(c.db_url && c.db_host), 'set db_url or the db_* keys, not both'), ['db_url']),
  v.forward(v.check((c) => !c.db_url || /^mysql:\/\//i.test(c.db_url), 'expected a mysql:// URL'), ['db_url']),
  v.forward(v.check((c) => !c.db_host || (c.db_user !== undefined && c.db_name !== undefined), 'db_host needs db_user and db_name'), ['db_host']),
);

export type CenterConfig = v.InferOutput<typeof CenterConfigSchema>;

/** Seed-style names also read as bare environment variables. */
export const CENTER_SEED_ENV_KEYS = ['node_auth_secret', 'use_node_execution_queue', 'node_execute_poll_timeout', 'node_execute_queue'] as const;

export function dbTargetOf(config: CenterConfig): { dialect: 'mysql' | 'sqlite'; location: string } {
  if (config.db_url) return { dialect: 'mysql', location: config.db_url };
  if (config.db_host) {
    const auth = `${encodeURIComponent(config.db_user ?? '')}${config.db_password ? `:${encodeURIComponent(config.db_password)}` : ''}`;
    return { dialect: 'mysql', location: `mysql://${auth}@${config.db_host}:${config.db_port}/${encodeURIComponent(config.db_name ?? '')}` };
  }
  return { dialect: 'sqlite', location: `${dataDirOf(config)}/tradectl.sqlite` };
}

/** Where Redis is: `redis_url`, else the original deployment's `redis_*` keys, else localhost. */
export function redisUrlOf(config: CenterConfig): string {
  if (config.redis_url) return config.redis_url;
  const auth = config.redis_password ? `:${encodeURIComponent(config.redis_password)}@` : '';
  return `redis://${auth}${config.redis_host ?? '127.0.0.1'}:${config.redis_port}/${config.redis_db}`;
}

/** `data_dir`, with its default even when the key is set but empty. */
export function dataDirOf(config: CenterConfig): string {
  return config.data_dir ?? 'data';
}
