import type { Context } from 'hono';
import type { Logger } from 'pino';
import type { GenericSchema, InferOutput } from 'valibot';
import { parseWith } from '../../core/validation.js';
import { HttpError, invalidRequest } from '../../http/errors.js';
import { readJsonObject } from '../../http/read-body.js';

/** What the center's Hono context carries per request. */
export interface CenterEnv {
  Variables: {
    rawBody: string;
    requestId: string;
    log: Logger;
  };
}

export type CenterContextHono = Context<CenterEnv>;

/** Largest admin request body; signals and account records are small. */
export const MAX_BODY = 256 * 1024;

/** The JSON body parsed by `schema`, or a 400 naming the field. */
export async function input<S extends GenericSchema>(c: CenterContextHono, schema: S): Promise<InferOutput<S>> {
  const body = await readJsonObject(c, MAX_BODY);
  const parsed = parseWith(schema, body);
  if (!parsed.ok) throw invalidRequest(parsed.issues);
  return parsed.value;
}

/** A path parameter that must be a positive integer id. */
export function idParam(c: CenterContextHono, name: string): number {
  const raw = c.req.param(name) ?? '';
  const id = Number(raw);
  if (!/^\d{1,15}$/.test(raw) || id <= 0) {
    throw new HttpError(400, 'invalid_request', `${name}: expected a positive integer id`, [{ field: name, message: 'expected a positive integer id' }]);
  }
  return id;
}

export function notFound(what: string): HttpError {
  return new HttpError(404, 'not_found', `${what} not found`);
}

/** A 409; with `field`, the error names the field whose value conflicts. */
export function conflict(message: string, field?: string): HttpError {
  if (field === undefined) return new HttpError(409, 'conflict', message);
  return new HttpError(409, 'conflict', `${field}: ${message}`, [{ field, message }]);
}

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
