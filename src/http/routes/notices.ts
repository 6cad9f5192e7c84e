import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { Deps } from '../../app/context.ts';
import { listNoticesQuerySchema, noticeListSchema } from '../../app/notice-schemas.ts';
import { acknowledgeNotice, listNotices } from '../../app/notices.ts';
import type { AppEnv } from '../env.ts';
import { authProblems, json, problem, requires } from '../openapi-shared.ts';
import { ctxOf } from '../request-context.ts';

const list = createRoute({
  method: 'get',
  path: '/v1/notices',
  tags: ['notices'],
  summary: "Your agency's inbox: what the policy lets you know of matches, oldest first",
  operationId: 'listNotices',
  security: requires('notices:read'),
  request: { query: listNoticesQuerySchema },
  responses: {
    200: json(noticeListSchema, 'A page of notices; pass `next` as `cursor` for the next page.'),
    400: problem('A bad cursor (`invalid_cursor`) or query (`validation_failed`).'),
    ...authProblems,
  },
});

const ack = createRoute({
  method: 'post',
  path: '/v1/notices/{id}/ack',
  tags: ['notices'],
  summary: 'Acknowledge a notice',
  operationId: 'acknowledgeNotice',
  security: requires('notices:read'),
  request: { params: z.object({ id: z.string().max(64).meta({ param: { name: 'id', in: 'path' } }) }) },
  responses: { 204: { description: 'Acknowledged.' }, ...authProblems, 404: problem('Not one of your notices (`notice_not_found`).') },
});

export function noticeRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  app.openapi(list, (c) => c.json(listNotices({ ctx: ctxOf(c, deps), query: c.req.valid('query') }), 200));
  app.openapi(ack, (c) => {
    acknowledgeNotice({ ctx: ctxOf(c, deps), id: c.req.valid('param').id });
    return c.body(null, 204);
  });
}
