import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import { z } from 'zod';
import { ACTING_PROFESSIONAL_PATTERN } from '../../app/authenticate.ts';
import type { Deps } from '../../app/context.ts';
import { describeLegalBasis } from '../../policy/legal-basis.ts';
import { probeWrite } from '../../store/db.ts';
import type { AppEnv } from '../env.ts';
import { json, problem } from '../openapi-shared.ts';

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
  summary: 'The database takes a write and the policy is loaded',
  responses: { 200: json(readySchema, 'Ready.'), 503: json(readySchema, 'Not ready.') },
});

type Operation = { parameters?: unknown[]; responses?: Record<string, { description?: string }> };

/**
 * Every /v1 operation takes the X-Acting-Professional header; it is checked before any route runs
 * (app/authenticate.ts), so it is added to the document here, once, with its pattern.
 */
function withActingProfessional<T extends { paths?: object; components?: object }>(doc: T): T {
  const components = (doc.components ??= {}) as Record<string, Record<string, unknown>>;
  (components.parameters ??= {}).ActingProfessional = {
    name: 'X-Acting-Professional',
    in: 'header',
    required: false,
    description:
      'The professional acting for the agency, by an opaque reference the agency keeps: `prf_` followed by 8 to 64 of ' +
      '`a-z 0-9 _ -`, with no run of eight digits (also not split by `-` or `_`). Never a name, an e-mail address or a ' +
      'number that could be a BSN: anything else is refused with 400 `invalid_acting_professional` and not kept. ' +
      'The audit log records the reference.',
    schema: { type: 'string', pattern: ACTING_PROFESSIONAL_PATTERN, minLength: 12, maxLength: 68, examples: ['prf_mentor-17'] },
  };
  const refused = problem('X-Acting-Professional is not an opaque professional reference (`invalid_acting_professional`).');
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Record<string, unknown>>)) {
    if (!path.startsWith('/v1/')) continue;
    for (const op of Object.values(item) as Operation[]) {
      (op.parameters ??= []).push({ $ref: '#/components/parameters/ActingProfessional' });
      const responses = (op.responses ??= {});
      if (responses['400']) responses['400'] = { ...responses['400'], description: `${responses['400'].description ?? ''} X-Acting-Professional is not an opaque professional reference (\`invalid_acting_professional\`).`.trim() };
      else responses['400'] = refused;
    }
  }
  return doc;
}

export function opsRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  app.openapi(health, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(ready, (c) => {
    const policy = { id: deps.policy.id, version: deps.policy.version };
    try {
      probeWrite(deps.db);
      return c.json({ status: 'ready' as const, policy }, 200);
    } catch (err) {
      deps.logger.error({ err, requestId: c.get('requestId') }, 'readiness check failed');
      return c.json({ status: 'not_ready' as const, policy }, 503);
    }
  });
  let doc: object | undefined;
  app.get('/openapi.json', (c) =>
    c.json(
      (doc ??= withActingProfessional(
        app.getOpenAPI31Document({
          openapi: '3.1.0',
          info: {
            title: 'Betrokken',
            version: '0.1.0',
            description: [
              'Referral index for youth care: agencies register involvement, never why.',
              `## Legal basis\n\nAs the policy in force (\`${deps.policy.id}\`, version ${deps.policy.version}) names it:\n\n${describeLegalBasis(deps.policy.legalBasis)}`,
            ].join('\n\n'),
          },
        }),
      )),
    ),
  );
  app.get('/docs', swaggerUI({ url: '/openapi.json', title: 'Betrokken API' }));
}
