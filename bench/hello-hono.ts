import { serve } from '@hono/node-server';
import { Hono } from 'hono';

/**
 * The baseline server: a bare Hono app on @hono/node-server that reads a JSON
 * body and answers a small JSON object. What an HTTP hop costs with the same
 * stack and no work behind it.
 */
const app = new Hono();
app.get('/health', (c) => c.json({ status: 'ok' }));
app.post('/echo', async (c) => {
  const body = (await c.req.json()) as { signal?: { signal_id?: string } };
  return c.json({ success: true, results: [{ account_id: 1, status: 'filled', signal_id: body.signal?.signal_id ?? null }] });
});
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${info.port}` })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
