import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The programs some tests need beyond Node.js. Tests that need one are
 * skipped, with the reason below, when it is missing; `build/run-tests.mjs`
 * prints one line per missing program at the end of the run, and under CI
 * (`CI=true`) a missing one fails the run instead.
 */
export type Service = 'mysql' | 'redis' | 'promtool' | 'openssl';

export const SERVICES: readonly Service[] = ['mysql', 'redis', 'promtool', 'openssl'];

/** Set by build/run-tests.mjs for the test processes: `{ "<service>": "<why it is missing>" }`. */
export const MISSING_ENV = 'TRADECTL_TEST_MISSING';

const MISSING_REASON: Record<Service, string> = {
  mysql: 'mariadbd not found (apt-get install mariadb-server, or set TRADECTL_TEST_MYSQL_URL)',
  redis: 'redis-server not found (apt-get install redis-server)',
  promtool: 'promtool not found (apt-get install prometheus)',
  openssl: 'openssl not found (apt-get install openssl)',
};

const PROGRAM: Record<Exclude<Service, 'mysql'>, string> = { redis: 'redis-server', promtool: 'promtool', openssl: 'openssl' };

/**
 * Where `name` runs from: the PATH, then the sbin folders Debian installs
 * daemons in (a non-root user's PATH has none, and `mariadbd` lives there).
 */
export function findProgram(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Why `service` is missing on this machine, or `undefined` when it is here. */
function detect(service: Service): string | undefined {
  if (service === 'mysql') return process.env['TRADECTL_TEST_MYSQL_URL'] || findProgram('mariadbd') ? undefined : MISSING_REASON.mysql;
  return findProgram(PROGRAM[service]) ? undefined : MISSING_REASON[service];
}

/** Why each missing program is missing (for the runner, before the tests start). */
export function detectMissing(): Partial<Record<Service, string>> {
  return Object.fromEntries(SERVICES.flatMap((service) => {
    const reason = detect(service);
    return reason ? [[service, reason]] : [];
  }));
}

/** Why `service` cannot be used by tests in this process, or `undefined` when it can. */
export function missingReason(service: Service): string | undefined {
  const given = process.env[MISSING_ENV];
  // Run directly, not through build/run-tests.mjs: look for the programs here.
  if (given === undefined) return detect(service);
  return (JSON.parse(given) as Partial<Record<Service, string>>)[service];
}

/**
 * Options for `describe` / `test`: skipped, saying why, when a service is
 * missing. `describe('… on mysql', needs('mysql'), () => …)`.
 */
export function needs(...services: Service[]): { skip?: string } {
  for (const service of services) {
    const reason = missingReason(service);
    if (reason) return { skip: reason };
  }
  return {};
}
