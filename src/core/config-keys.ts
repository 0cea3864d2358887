/**
 * Config keys that belong to the center (and its worker). One YAML file may
 * serve every tradectl process on a machine, so the node ignores these
 * instead of calling them typos. The center's own schema is the source of
 * truth; its tests check this list against it.
 */
export const CENTER_CONFIG_KEYS = [
  'center_host',
  'center_port',
  'center_api_token',
  'center_allowed_hosts',
  'data_dir',
  'db_url',
  'db_host',
  'db_port',
  'db_user',
  'db_password',
  'db_name',
  'master_key',
  'master_key_file',
  'execution_nodes',
  'node_heartbeat_timeout',
  'node_request_timeout',
  'fallback_to_local',
  'reconcile_interval',
  'reconcile_after',
  'signal_max_age',
  'protect_window',
  'require_points',
  'fee_rate',
  'referral_shares',
  // queue mode and the worker (docs/design.md R4.5, R8)
  'use_node_execution_queue',
  'node_execute_queue',
  'node_execute_poll_timeout',
  'queue_visibility_timeout',
  'queue_max_attempts',
  'worker_concurrency',
  'worker_metrics_port',
  'worker_metrics_host',
  'redis_url',
  'redis_host',
  'redis_port',
  'redis_password',
  'redis_db',
] as const;
