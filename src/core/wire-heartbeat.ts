import * as v from 'valibot';

/**
 * `POST {center_url}/api/nodes/{node_code}/heartbeat` (docs/design.md R3.1, R5.3): what
 * a node reports about itself. The center stores it beside
 * `last_heartbeat_at`.
 */
/** Counts the center stores in 32-bit columns. */
const MAX_COUNT = 2_147_483_647;

export const HeartbeatSchema = v.object({
  node_code: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  version: v.pipe(v.string(), v.maxLength(64)),
  status: v.picklist(['ok', 'draining']),
  started_at: v.pipe(v.string(), v.isoTimestamp()),
  uptime_seconds: v.pipe(v.number(), v.minValue(0), v.maxValue(1e10)),
  /** Accounts being executed right now. */
  in_flight: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_COUNT)),
  /** How many accounts the node executes at once (`execute_concurrency`). */
  capacity: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_COUNT)),
  /** The URL the node says it is reachable at, when `node_public_url` is set. */
  base_url: v.optional(v.pipe(v.string(), v.maxLength(512), v.url())),
  /** What this node's execute route honours beyond the original protocol (`NODE_FEATURES`); absent from nodes of earlier versions. */
  features: v.optional(v.pipe(v.array(v.pipe(v.string(), v.regex(/^[a-z_]{1,32}$/))), v.maxLength(16))),
});

/**
 * Request fields a node of this version honours that an earlier node would
 * silently ignore, announced in its heartbeat so that the center never
 * sends them where they would be ignored: `protect_only` (an earlier node
 * would answer it as a plain resend, which places what it does not find),
 * `sizing` (an account's `sizing`, `leverage` and `margin_mode`: an earlier
 * node would place the signal's quantity at the signal's leverage).
 */
export const NODE_FEATURES = ['protect_only', 'sizing'] as const;
export type NodeFeature = (typeof NODE_FEATURES)[number];

/** Whether a node's stored `features` (comma-separated, from its last heartbeat) include `feature`. */
export function announces(features: string | null, feature: NodeFeature): boolean {
  return (features ?? '').split(',').includes(feature);
}
export type Heartbeat = v.InferOutput<typeof HeartbeatSchema>;

/** Node codes appear in URLs and logs: keep them to a safe alphabet. */
export const NODE_CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
