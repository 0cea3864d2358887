import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { redactUrl } from '../db/connect.js';

/**
 * A Redis connection that fails fast while Redis is down (no offline queue:
 * the center falls back to a direct POST instead of waiting) and reconnects
 * by itself when it returns. Connection errors are logged once per outage,
 * not once per retry.
 */
export function connectRedis(url: string, logger: Logger, name: string): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    connectionName: name,
  });
  let down = false;
  redis.on('error', (error: Error) => {
    if (!down) logger.warn({ redis: redactUrl(url), reason: error.message, connection: name }, 'redis unavailable; retrying');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info({ redis: redactUrl(url), connection: name }, 'redis is back');
    down = false;
  });
  return redis;
}
