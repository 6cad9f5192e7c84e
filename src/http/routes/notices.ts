import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { Deps } from '../../app/context.ts';
import { listNoticesQuerySchema, noticeListSchema, noticeSchema } from '../../app/notice-schemas.ts';
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

/** What the service sends to an agency's webhook URL: the notice its inbox also holds. */
const noticeWebhook = createRoute({
  method: 'post',
  path: 'notice',
  operationId: 'receiveNotice',
  tags: ['notices'],
  summary: "A notice, sent to your agency's webhook URL",
  description:
    'Standard Webhooks: verify `webhook-signature` over `{webhook-id}.{webhook-timestamp}.{body}` before trusting the body ' +
    '(`v1a,…` is Ed25519 with a key of /.well-known/jwks.json). Sent at least once, with retries: deduplicate on `webhook-id` ' +
    '(the notice id). The inbox holds every notice whether or not a webhook took it.',
  request: {
    headers: z.object({
      'webhook-id': z.string().meta({ description: 'The notice id; the same on every retry.' }),
      'webhook-timestamp': z.string().regex(/^\d+$/).meta({ description: 'Seconds since the epoch when this attempt was signed.' }),
      'webhook-signature': z.string().meta({ description: 'Space-separated `version,base64-signature` pairs.' }),
    }),
    body: { required: true, content: { 'application/json': { schema: noticeSchema } } },
  },
  responses: { '2XX': { description: 'Taken; any 2xx answer ends the retries.' } },
});

export function noticeRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  app.openAPIRegistry.registerWebhook(noticeWebhook);
  app.openapi(list, async (c) => c.json(await listNotices({ ctx: ctxOf(c, deps), query: c.req.valid('query') }), 200));
  app.openapi(ack, async (c) => {
    await acknowledgeNotice({ ctx: ctxOf(c, deps), id: c.req.valid('param').id });
    return c.body(null, 204);
  });
}
