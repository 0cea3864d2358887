import * as v from 'valibot';
import { NODE_CODE_PATTERN } from '../core/wire-heartbeat.js';
import {
  booleanSetting,
  choiceSetting,
  integerSetting,
  listSetting,
  mapSetting,
  secondsSetting,
  textSetting,
} from '../core/settings.js';
import { allowlistEntryProblem } from '../http/ip-allowlist.js';
import { hostNames } from '../http/request-guards.js';
import { isLoopbackHost } from '../http/listen.js';
import { ExecutionSettings } from '../execution/settings.js';
import { LogSettings } from '../core/settings.js';

const url = (what: string) =>
  v.pipe(
    textSetting(),
    v.check((x) => x === undefined || /^https?:\/\/[^\s/]+/i.test(x), `expected ${what} starting with http:// or https://`),
  );

/**
 * The execution node's configuration: one schema, defaults inside it.
 * `config/default.yaml` documents each key and the README the environment
 * variables.
 */
export const NodeConfigEntries = {
    ...LogSettings,
    host: textSetting(),
    port: integerSetting(0, 65535, 9101),
    tls_cert: textSetting(),
    tls_key: textSetting(),
    node_public_url: url('a URL'),

    node_code: v.pipe(
      textSetting(),
      v.check((x) => x === undefined || NODE_CODE_PATTERN.test(x), 'expected letters, digits, ".", "_" or "-" (at most 64)'),
    ),
    center_url: url('the center URL'),
    heartbeat_interval: secondsSetting(1, 3600, 60),

    node_auth_enabled: booleanSetting(false),
    node_auth_secret: textSetting(),
    node_auth_mode: choiceSetting(['any', 'token', 'hmac'], 'any'),
    node_allowed_ips: v.pipe(
      listSetting(),
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        for (const entry of dataset.value) {
          const problem = allowlistEntryProblem(entry);
          if (problem) addIssue({ message: `expected IP addresses or CIDR ranges: ${problem}` });
        }
      }),
    ),
    allow_unauthenticated: booleanSetting(false),
    allowed_hosts: hostNames(),
    metrics_token: textSetting(),

    ...ExecutionSettings,
    max_accounts_per_request: integerSetting(1, 100_000, 1000),
    max_body_bytes: integerSetting(1024, 256 * 1024 * 1024, 4 * 1024 * 1024),
};

export const NodeConfigSchema = v.pipe(
  v.object(NodeConfigEntries),
  v.forward(
    v.check((c) => !c.node_auth_enabled || (c.node_auth_secret ?? '').length >= 16, 'must be set, at least 16 characters, when node_auth_enabled is true'),
    ['node_auth_secret'],
  ),
  v.forward(
    v.check((c) => !c.node_auth_enabled || c.node_auth_mode !== 'hmac' || c.node_code !== undefined, 'must be set when node_auth_mode is hmac: a signature names the node it is for (the code the center registered this node under)'),
    ['node_code'],
  ),
  v.forward(v.check((c) => (c.tls_cert === undefined) === (c.tls_key === undefined), 'tls_cert and tls_key go together'), ['tls_key']),
  v.forward(v.check((c) => c.metrics_token === undefined || c.metrics_token.length >= 16, 'expected at least 16 characters'), ['metrics_token']),
);

export type NodeConfig = v.InferOutput<typeof NodeConfigSchema>;

/**
 * Keys the original deployment names and already sets as bare environment
 * variables (`NODE_AUTH_SECRET=…`); `TRADECTL_<KEY>` works for every key and
 * wins over these.
 */
export const NODE_SEED_ENV_KEYS = [
  'node_auth_enabled',
  'node_auth_secret',
  'node_allowed_ips',
  'center_url',
  'node_code',
  'heartbeat_interval',
] as const;

/**
 * Where the node listens. With auth off the default is loopback only, and a
 * public address needs `allow_unauthenticated: true` said out loud: an open
 * node lets anyone trade through this machine's (often whitelisted) IP.
 */
export function listenHost(config: NodeConfig): { host: string; problem?: string } {
  const authed = config.node_auth_enabled;
  const host = config.host ?? (authed ? '0.0.0.0' : '127.0.0.1');
  if (!authed && !isLoopbackHost(host) && !config.allow_unauthenticated) {
    return {
      host,
      problem:
        `refusing to listen on ${host} without authentication: set node_auth_enabled: true and node_auth_secret ` +
        '(recommended), or allow_unauthenticated: true to accept requests from anyone who can reach this port',
    };
  }
  return { host };
}
