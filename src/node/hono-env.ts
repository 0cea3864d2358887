import type { HttpBindings } from '@hono/node-server';
import type { Logger } from 'pino';

/** What the node's Hono context carries per request. */
export interface NodeEnv {
  Bindings: HttpBindings;
  Variables: {
    rawBody: string;
    requestId: string;
    log: Logger;
  };
}
