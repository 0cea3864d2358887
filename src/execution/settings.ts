import * as v from 'valibot';
import { integerSetting, mapSetting, secondsSetting } from '../core/settings.js';

/**
 * How accounts are executed: on a node, and in the center for accounts that
 * have no node. Both processes read these keys the same way.
 */
export const ExecutionSettings = {
  exchange_urls: v.pipe(
    mapSetting(),
    v.check(
      (m) => Object.values(m).every((u) => /^https?:\/\/[^\s/]+/i.test(u)),
      'expected exchange id → URL starting with http:// or https://',
    ),
  ),
  execute_concurrency: integerSetting(1, 10_000, 64),
  account_timeout: secondsSetting(1, 600, 25),
  exchange_timeout: secondsSetting(0.1, 300, 10),
  ccxt_cache_size: integerSetting(0, 1_000_000, 1000),
  markets_ttl: secondsSetting(60, 7 * 24 * 3600, 3600),
  shutdown_grace: secondsSetting(0, 3600, 30),
};
