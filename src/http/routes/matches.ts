import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { Deps } from '../../app/context.ts';
import { claimMatch, closeMatch, conveneCaseTable, getMatch, listMatches, recordCaseTableOutcome } from '../../app/coordination.ts';
import {
  caseTableOutcomeSchema,
  caseTableSchema,
  claimMatchSchema,
  closeMatchSchema,
  conveneCaseTableSchema,
  listMatchesQuerySchema,
  matchListSchema,
  matchSchema,
} from '../../app/match-schemas.ts';
import type { AppEnv } from '../env.ts';
import { idempotencyRequest } from '../../store/idempotency.ts';
import { authProblems, idempotencyHeader, json, problem, requires } from '../openapi-shared.ts';
import { ctxOf } from '../request-context.ts';

const idParam = z.object({ id: z.string().max(64).meta({ param: { name: 'id', in: 'path' } }) });
const body = <T extends z.ZodType>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });
const invalid = problem('The request does not match the schema (`validation_failed`).');
const notFound = problem('Not a match you coordinate (`match_not_found`).');
const ended = problem('The match has ended (`match_not_open`), or is claimed already (`match_already_claimed`).');
const tags = ['matches'];

const list = createRoute({
  method: 'get', path: '/v1/matches', tags, operationId: 'listMatches', security: requires('matches:coordinate'),
  summary: 'Matches you coordinate, or that were escalated to you, newest first',
  request: { query: listMatchesQuerySchema },
  responses: { 200: json(matchListSchema, 'A page of matches.'), 400: invalid, ...authProblems },
});
const get = createRoute({
  method: 'get', path: '/v1/matches/{id}', tags, operationId: 'getMatch', security: requires('matches:coordinate'),
  summary: 'One match: parties, deadlines, case tables and timeline',
  request: { params: idParam },
  responses: { 200: json(matchSchema, 'The match.'), ...authProblems, 404: notFound },
});
const claim = createRoute({
  method: 'post', path: '/v1/matches/{id}/claim', tags, operationId: 'claimMatch', security: requires('matches:coordinate'),
  summary: 'Pick the match up; the parties learn whom to call',
  request: { params: idParam, body: body(claimMatchSchema) },
  responses: { 200: json(matchSchema, 'Claimed.'), 400: invalid, ...authProblems, 404: notFound, 409: ended },
});
const convene = createRoute({
  method: 'post', path: '/v1/matches/{id}/case-tables', tags, operationId: 'conveneCaseTable', security: requires('matches:coordinate'),
  summary: 'Convene a case table (casusoverleg)',
  request: { params: idParam, headers: idempotencyHeader, body: body(conveneCaseTableSchema) },
  responses: {
    201: json(caseTableSchema, 'Convened; the invitees are told.'),
    400: invalid,
    ...authProblems,
    404: notFound,
    409: problem('The match is not claimed (`match_not_claimed`) or has ended (`match_not_open`); or the Idempotency-Key was used with another request (`idempotency_key_reused`).'),
    422: problem('`scheduled_in_past`, or `invitee_not_a_party` (only parties told of the match can be invited).'),
  },
});
const outcome = createRoute({
  method: 'post', path: '/v1/case-tables/{id}/outcome', tags, operationId: 'recordCaseTableOutcome', security: requires('matches:coordinate'),
  summary: 'Record what came of a case table (structured, no free text)',
  request: { params: idParam, body: body(caseTableOutcomeSchema) },
  responses: {
    200: json(caseTableSchema, 'Recorded; the invitees are told.'),
    400: invalid,
    ...authProblems,
    404: problem('Not a case table of a match you coordinate (`case_table_not_found`).'),
    409: problem('The outcome was recorded already (`outcome_already_recorded`).'),
    422: problem('`not_invited` or `not_held`.'),
  },
});
const close = createRoute({
  method: 'post', path: '/v1/matches/{id}/close', tags, operationId: 'closeMatch', security: requires('matches:coordinate'),
  summary: 'Close the match',
  request: { params: idParam, body: body(closeMatchSchema) },
  responses: { 200: json(matchSchema, 'Closed; the parties are told.'), 400: invalid, ...authProblems, 404: notFound, 409: ended },
});

export function matchRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  app.openapi(list, async (c) => c.json(await listMatches({ ctx: ctxOf(c, deps), query: c.req.valid('query') }), 200));
  app.openapi(get, async (c) => c.json(await getMatch({ ctx: ctxOf(c, deps), id: c.req.valid('param').id }), 200));
  app.openapi(claim, async (c) => c.json(await claimMatch({ ctx: ctxOf(c, deps), id: c.req.valid('param').id, input: c.req.valid('json') }), 200));
  app.openapi(convene, async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const key = c.req.valid('header')['idempotency-key'];
    const idempotency = key ? idempotencyRequest(deps.keys, key, 'POST', `/v1/matches/${id}/case-tables`, input) : undefined;
    const { replayed, ...table } = await conveneCaseTable({ ctx: ctxOf(c, deps), id, input, ...(idempotency ? { idempotency } : {}) });
    if (replayed) c.header('Idempotent-Replayed', 'true');
    c.header('Location', `/v1/case-tables/${table.id}`);
    return c.json(table, 201);
  });
  app.openapi(outcome, async (c) =>
    c.json(await recordCaseTableOutcome({ ctx: ctxOf(c, deps), id: c.req.valid('param').id, input: c.req.valid('json') }), 200),
  );
  app.openapi(close, async (c) => c.json(await closeMatch({ ctx: ctxOf(c, deps), id: c.req.valid('param').id, input: c.req.valid('json') }), 200));
}
