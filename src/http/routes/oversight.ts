import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { auditCheckpointSchema, currentCheckpoint } from '../../app/audit-checkpoint.ts';
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
import { authProblems, json, problem, requires } from '../openapi-shared.ts';
import { ctxOf } from '../request-context.ts';

const invalid = problem('The request does not match the schema (`validation_failed`).');

const access = createRoute({
  method: 'post', path: '/v1/subject-requests/access', tags: ['subject rights'], operationId: 'requestSubjectAccess', security: requires('subjects:rights'),
  summary: 'Answer a young person or parent: who registered, the matches, and who looked, with no trace of what the policy shields',
  request: { body: { required: true, content: { 'application/json': { schema: accessRequestSchema } } } },
  responses: { 200: json(accessReportSchema, 'The report.'), 400: invalid, ...authProblems, 422: problem('`invalid_bsn`.') },
});
const erasure = createRoute({
  method: 'post', path: '/v1/subject-requests/erasure', tags: ['subject rights'], operationId: 'requestSubjectErasure', security: requires('subjects:rights'),
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
  method: 'get', path: '/v1/audit', tags: ['audit'], operationId: 'listAuditRecords', security: requires('audit:read'),
  summary: 'The hash-chained audit log, with filters',
  request: { query: listAuditQuerySchema },
  responses: { 200: json(auditListSchema, 'Records in order; pass `next` as `cursor`.'), 400: invalid, ...authProblems },
});
const checkpoint = createRoute({
  method: 'get', path: '/v1/audit/checkpoint', tags: ['audit'], operationId: 'getAuditCheckpoint', security: requires('audit:read'),
  summary: 'A signed checkpoint of the audit chain as it is now, for others to keep',
  description:
    'The latest checkpoint if the chain has not grown since it was signed, else a new one, so that it covers every record up to the request. ' +
    'The service also writes one every hour while the chain grows. Keep the answer (or its `jws`) outside the service: ' +
    '`betrokken audit verify --checkpoint FILE` fails when the chain no longer extends it (records deleted, altered, or the chain re-hashed). ' +
    'Verify the signature with /.well-known/jwks.json (the header names the key in `kid`).',
  responses: {
    200: json(auditCheckpointSchema, 'The checkpoint.'),
    ...authProblems,
    409: problem('The chain no longer extends the last checkpoint the service signed (`audit_chain_broken`): it signs nothing until an operator has looked.'),
  },
});
const stats = createRoute({
  method: 'get', path: '/v1/stats', tags: ['statistics'], operationId: 'getStatistics', security: requires('stats:read'),
  summary: 'Signals, matches, claims in time, days to claim and case tables, with small cells suppressed',
  request: { query: statsQuerySchema },
  responses: { 200: json(statsSchema, 'The figures.'), 400: invalid, ...authProblems },
});

export function oversightRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  app.openapi(access, async (c) => c.json(await subjectAccess({ ctx: ctxOf(c, deps), bsn: c.req.valid('json').bsn }), 200));
  app.openapi(erasure, async (c) => {
    const input = c.req.valid('json');
    return c.json(await subjectErasure({ ctx: ctxOf(c, deps), ...input }), 200);
  });
  app.openapi(audit, async (c) => c.json(await listAudit({ ctx: ctxOf(c, deps), query: c.req.valid('query') }), 200));
  app.openapi(checkpoint, async (c) => c.json(await currentCheckpoint({ ctx: ctxOf(c, deps) }), 200));
  app.openapi(stats, async (c) => c.json(await statistics({ ctx: ctxOf(c, deps), query: c.req.valid('query') }), 200));
}
