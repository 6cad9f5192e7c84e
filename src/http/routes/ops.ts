import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import { z } from 'zod';
import type { Deps } from '../../app/context.ts';
import type { AppEnv } from '../env.ts';
import { openApiDocument } from '../openapi-document.ts';
import { json } from '../openapi-shared.ts';
import { docsRoutes } from './docs.ts';

const health = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  tags: ['operations'],
  summary: 'The process is alive',
  responses: { 200: json(z.object({ status: z.literal('ok') }), 'Alive.') },
});

const readySchema = z.object({ status: z.enum(['ready', 'not_ready']), policy: z.object({ id: z.string(), version: z.string() }) });
const ready = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  tags: ['operations'],
  summary: 'The database takes a write and the policy is loaded',
  responses: { 200: json(readySchema, 'Ready.'), 503: json(readySchema, 'Not ready.') },
});

export function opsRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  app.openapi(health, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(ready, async (c) => {
    const policy = { id: deps.policy.id, version: deps.policy.version };
    try {
      await deps.store.probeWrite();
      return c.json({ status: 'ready' as const, policy }, 200);
    } catch (err) {
      deps.logger.error({ err, requestId: c.get('requestId') }, 'readiness check failed');
      return c.json({ status: 'not_ready' as const, policy }, 503);
    }
  });
  // Served without authentication and readable from any origin (NL GOV API Design Rules
  // /core/doc-openapi): it describes the API, never what is in it.
  let doc: object | undefined;
  app.use('/openapi.json', cors({ origin: '*', allowMethods: ['GET', 'HEAD'] }));
  app.get('/openapi.json', (c) => c.json((doc ??= openApiDocument(app, deps))));
  docsRoutes(app);
}
