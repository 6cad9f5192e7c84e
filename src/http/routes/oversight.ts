import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { auditListSchema, listAudit, listAuditQuerySchema } from '../../app/audit-log.ts';
import type { Deps } from '../../app/context.ts';
import { statistics, statsQuerySchema, statsSchema } from '../../app/stats.ts';
import {
  accessReportSchema,
  accessRequestSchema,
  erasureRequestSchema,
  erasureResultSchema,
  subjectAccess,
  subjectErasure,
} from '../../app/subject-rights.ts';
import type { AppEnv } from '../env.ts';
import { authProblems, bearer, json, problem } from '../openapi-shared.ts';
import { ctxOf } from '../request-context.ts';

const invalid = problem('The request does not match the schema (`validation_failed`).');

const access = createRoute({
  method: 'post', path: '/v1/subject-requests/access', tags: ['subject rights'], security: bearer,
  summary: 'Answer a young person or parent: who registered, the matches, and who looked, with no trace of what the policy shields',
  request: { body: { required: true, content: { 'application/json': { schema: accessRequestSchema } } } },
  responses: { 200: json(accessReportSchema, 'The report.'), 400: invalid, ...authProblems, 422: problem('`invalid_bsn`.') },
});
const erasure = createRoute({
  method: 'post', path: '/v1/subject-requests/erasure', tags: ['subject rights'], security: bearer,
  summary: "Destroy a young person's data (crypto-shredding); agencies with an active signal are told; the audit log keeps that it happened",
  request: { body: { required: true, content: { 'application/json': { schema: erasureRequestSchema } } } },
  responses: {
    200: json(erasureResultSchema, 'Erased; also when nothing was registered, so the answer says nothing of what the family may not see.'),
    400: invalid,
    ...authProblems,
    422: problem('`invalid_bsn`.'),
  },
});
const audit = createRoute({
  method: 'get', path: '/v1/audit', tags: ['audit'], security: bearer,
  summary: 'The hash-chained audit log, with filters',
  request: { query: listAuditQuerySchema },
  responses: { 200: json(auditListSchema, 'Records in order; pass `next` as `after`.'), 400: invalid, ...authProblems },
});
const stats = createRoute({
  method: 'get', path: '/v1/stats', tags: ['statistics'], security: bearer,
  summary: 'Signals, matches, claims in time, days to claim and case tables, with small cells suppressed',
  request: { query: statsQuerySchema },
  responses: { 200: json(statsSchema, 'The figures.'), 400: invalid, ...authProblems },
});

export function oversightRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  app.openapi(access, (c) => c.json(subjectAccess({ ctx: ctxOf(c, deps), bsn: c.req.valid('json').bsn }), 200));
  app.openapi(erasure, (c) => {
    const input = c.req.valid('json');
    return c.json(subjectErasure({ ctx: ctxOf(c, deps), ...input }), 200);
  });
  app.openapi(audit, (c) => c.json(listAudit({ ctx: ctxOf(c, deps), query: c.req.valid('query') }), 200));
  app.openapi(stats, (c) => c.json(statistics({ ctx: ctxOf(c, deps), query: c.req.valid('query') }), 200));
}
