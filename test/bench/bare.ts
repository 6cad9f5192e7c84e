import { serve } from '@hono/node-server';
import { Hono } from 'hono';

/**
 * The ceiling to compare against: a bare Hono POST endpoint of the same shape as registering a
 * signal (JSON in, JSON out, 201), with no auth, validation, crypto or database.
 */
const app = new Hono();
let n = 0;
app.post('/v1/signals', async (c) => {
  const body = (await c.req.json()) as { municipality?: string; informed?: unknown };
  return c.json({ id: `sig_${(n++).toString(36).padStart(26, '0')}`, status: 'active', kind: 'involvement', municipality: body.municipality ?? null, informed: body.informed ?? null }, 201);
});
const port = Number(process.argv[2] ?? 0);
serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info) => console.log(JSON.stringify({ port: info.port })));
