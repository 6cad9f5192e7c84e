import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { Deps } from '../../app/context.ts';
import { listSignals, getSignal } from '../../app/read-signals.ts';
import { registerSignal } from '../../app/register-signal.ts';
import {
  listSignalsQuerySchema,
  registeredSignalSchema,
  registerSignalSchema,
  signalListSchema,
  signalSchema,
  updateSignalSchema,
  withdrawSignalSchema,
} from '../../app/signal-schemas.ts';
import { updateSignal, withdrawSignal } from '../../app/update-signal.ts';
import { idempotencyRequest } from '../../store/idempotency.ts';
import type { AppEnv } from '../env.ts';
import { authProblems, idempotencyHeader, json, problem, requires } from '../openapi-shared.ts';
import { ctxOf } from '../request-context.ts';

const idParam = z.object({ id: z.string().max(64).meta({ param: { name: 'id', in: 'path' }, example: 'sig_01jd6x9k2m3n4p5q6r7s8t9v0w' }) });
const notFound = problem('Not one of your signals (`signal_not_found`).');
const invalid = problem('The request does not match the schema (`validation_failed`); unknown fields are refused.');

const register = createRoute({
  method: 'post',
  path: '/v1/signals',
  tags: ['signals'],
  summary: 'Register that your agency is involved with a young person',
  operationId: 'registerSignal',
  security: requires('signals:write'),
  request: {
    headers: idempotencyHeader,
    body: { required: true, content: { 'application/json': { schema: registerSignalSchema } } },
  },
  responses: {
    201: json(signalSchema, 'Registered.'),
    200: json(
      registeredSignalSchema,
      'Your agency already has an active signal for this young person; that one is returned, unchanged. `warnings` names each detail given that differs from it and was not applied (PATCH changes professional, informed and reference).',
    ),
    400: invalid,
    ...authProblems,
    403: problem('The token lacks `signals:write`, or your agency type may not register (`not_authorised_to_register`).'),
    409: problem('The Idempotency-Key was used with another request (`idempotency_key_reused`).'),
    422: problem('`invalid_bsn`, `subject_too_old`, `invalid_birth_date`, `kind_not_allowed`, `unknown_district`, `invalid_parent_bsn` or `parents_not_allowed`.'),
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/signals',
  tags: ['signals'],
  summary: "List your agency's own signals",
  operationId: 'listSignals',
  security: requires('signals:read'),
  request: { query: listSignalsQuerySchema },
  responses: { 200: json(signalListSchema, 'A page of signals, oldest first.'), 400: invalid, ...authProblems },
});

const get = createRoute({
  method: 'get',
  path: '/v1/signals/{id}',
  tags: ['signals'],
  summary: 'Read one of your own signals',
  operationId: 'getSignal',
  security: requires('signals:read'),
  request: { params: idParam },
  responses: { 200: json(signalSchema, 'The signal.'), ...authProblems, 404: notFound },
});

const patch = createRoute({
  method: 'patch',
  path: '/v1/signals/{id}',
  tags: ['signals'],
  summary: 'Update the informing duty, the professional or the reference',
  operationId: 'updateSignal',
  security: requires('signals:write'),
  request: { params: idParam, body: { required: true, content: { 'application/json': { schema: updateSignalSchema } } } },
  responses: {
    200: json(signalSchema, 'The updated signal.'),
    400: invalid,
    ...authProblems,
    404: notFound,
    409: problem('The signal has ended (`signal_not_active`).'),
  },
});

const withdraw = createRoute({
  method: 'post',
  path: '/v1/signals/{id}/withdraw',
  tags: ['signals'],
  summary: 'Withdraw one of your signals',
  description: 'Withdrawing a signal that has already ended changes nothing and returns it.',
  operationId: 'withdrawSignal',
  security: requires('signals:write'),
  request: { params: idParam, body: { required: true, content: { 'application/json': { schema: withdrawSignalSchema } } } },
  responses: { 200: json(signalSchema, 'The ended signal.'), 400: invalid, ...authProblems, 404: notFound },
});

export function signalRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  app.openapi(register, async (c) => {
    const input = c.req.valid('json');
    const key = c.req.valid('header')['idempotency-key'];
    const idempotency = key ? idempotencyRequest(deps.keys, key, 'POST', '/v1/signals', input) : undefined;
    const result = await registerSignal({ ctx: ctxOf(c, deps), input, ...(idempotency ? { idempotency } : {}) });
    if (result.replayed) c.header('Idempotent-Replayed', 'true');
    c.header('Location', `/v1/signals/${result.signal.id}`);
    if (result.outcome === 'created') return c.json(result.signal, 201);
    return c.json(result.warnings.length > 0 ? { ...result.signal, warnings: result.warnings } : result.signal, 200);
  });
  app.openapi(list, async (c) => c.json(await listSignals({ ctx: ctxOf(c, deps), query: c.req.valid('query') }), 200));
  app.openapi(get, async (c) => c.json(await getSignal({ ctx: ctxOf(c, deps), id: c.req.valid('param').id }), 200));
  app.openapi(patch, async (c) =>
    c.json(await updateSignal({ ctx: ctxOf(c, deps), id: c.req.valid('param').id, input: c.req.valid('json') }), 200),
  );
  app.openapi(withdraw, async (c) =>
    c.json(await withdrawSignal({ ctx: ctxOf(c, deps), id: c.req.valid('param').id, input: c.req.valid('json') }), 200),
  );
}
