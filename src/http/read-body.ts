import type { Context } from 'hono';
import { HttpError } from './errors.js';

/** Any Hono env whose context can hold the raw body. */
export interface BodyEnv {
  Variables: { rawBody: string };
}

/**
 * The request body as text, read at most once per request and never past
 * `limit` bytes: a declared Content-Length over the limit is refused before
 * reading, a chunked body as soon as it crosses it. `setting` names the
 * configuration key behind the limit, when there is one.
 */
export async function readBody<E extends BodyEnv>(context: Context<E>, limit: number, setting?: string): Promise<string> {
  // Hono's Context is invariant in its env; the body slot is all this needs.
  const c = context as unknown as Context<BodyEnv>;
  const cached = c.get('rawBody') as string | undefined;
  if (cached !== undefined) return cached;
  const tooLarge = () => new HttpError(413, 'payload_too_large', `request body is larger than ${limit} bytes${setting ? ` (${setting})` : ''}`);
  const declared = Number(c.req.header('content-length'));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();

  const stream = c.req.raw.body;
  let text = '';
  if (stream) {
    const reader = stream.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
    text = Buffer.concat(chunks).toString('utf8');
  }
  c.set('rawBody', text);
  return text;
}

/** The body parsed as a JSON object, or a 400 that says what is wrong. */
export async function readJsonObject<E extends BodyEnv>(c: Context<E>, limit: number, setting?: string): Promise<Record<string, unknown>> {
  const text = await readBody(c, limit, setting);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8's message quotes the text around the error, which may be part of a
    // secret: say where, never what.
    const at = error instanceof SyntaxError ? /at position (\d+)/.exec(error.message)?.[1] : undefined;
    throw new HttpError(400, 'invalid_json', text.trim() === '' ? 'the request body is empty; expected a JSON object' : `the request body is not valid JSON${at === undefined ? '' : ` (at character ${at})`}; expected a JSON object`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, 'invalid_request', '(body): expected a JSON object', [{ field: '(body)', message: 'expected a JSON object' }]);
  }
  return value as Record<string, unknown>;
}
