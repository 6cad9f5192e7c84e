import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import { z } from 'zod';
import type { Deps } from '../../app/context.ts';
import { pingDatabase } from '../../store/db.ts';
import type { AppEnv } from '../env.ts';
import { json } from '../openapi-shared.ts';

const health = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['operations'],
  summary: 'The process is alive',
  responses: { 200: json(z.object({ status: z.literal('ok') }), 'Alive.') },
});

const readySchema = z.object({ status: z.enum(['ready', 'not_ready']), policy: z.object({ id: z.string(), version: z.string() }) });
const ready = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['operations'],
  summary: 'The database answers and the policy is loaded',
  responses: { 200: json(readySchema, 'Ready.'), 503: json(readySchema, 'Not ready.') },
});

const metrics = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics: requests per route, webhook delivery (queued, delivered, retried, failed), jobs',
  responses: { 200: { description: 'Prometheus text format.', content: { 'text/plain': { schema: z.string() } } } },
});

export function opsRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  app.openapi(health, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(ready, (c) => {
    const policy = { id: deps.policy.id, version: deps.policy.version };
    try {
      pingDatabase(deps.db);
      return c.json({ status: 'ready' as const, policy }, 200);
    } catch (err) {
      deps.logger.error({ err, requestId: c.get('requestId') }, 'readiness check failed');
      return c.json({ status: 'not_ready' as const, policy }, 503);
    }
  });
  app.openapi(metrics, async (c) => {
    const text = await deps.metrics.registry.metrics();
    return c.text(text, 200, { 'Content-Type': deps.metrics.registry.contentType });
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Betrokken',
      version: '0.1.0',
      description: 'Referral index for youth care: agencies register involvement, never why.',
    },
  });
  app.get('/docs', swaggerUI({ url: '/openapi.json', title: 'Betrokken API' }));
}
