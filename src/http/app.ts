import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { createAuthenticator } from '../app/authenticate.ts';
import type { Deps } from '../app/context.ts';
import { type ConsoleConfig, DEFAULT_CONSOLE_CONFIG } from '../config.ts';
import { createConsole } from '../console/app.tsx';
import { DomainError } from '../app/errors.ts';
import { newRequestId } from '../crypto/ids.ts';
import type { AppEnv } from './env.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { domainProblem, fieldErrors, problemResponse } from './problem.ts';
import { matchRoutes } from './routes/matches.ts';
import { noticeRoutes } from './routes/notices.ts';
import { oauthRoutes } from './routes/oauth.ts';
import { oversightRoutes } from './routes/oversight.ts';
import { opsRoutes } from './routes/ops.ts';
import { signalRoutes } from './routes/signals.ts';

const MAX_BODY_BYTES = 64 * 1024;

/** The one wiring point: every route, given its dependencies. Opens nothing, reads no key. */
export function createApp(deps: Deps, consoleConfig: ConsoleConfig = DEFAULT_CONSOLE_CONFIG): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        return problemResponse(c, 400, 'validation_failed', 'the request does not match the schema', fieldErrors(result.error.issues));
      }
    },
  });
  const authenticate = createAuthenticator(deps);

  app.use(requestId({ headerName: 'X-Request-Id', generator: newRequestId }));
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    deps.metrics.observeRequest(c.req.method, c.req.routePath, c.res.status, seconds);
    deps.logger.info(
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        agencyId: c.get('actor')?.agencyId,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  });
  app.use(securityHeaders({ issuer: deps.issuer }));
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => problemResponse(c, 413, 'payload_too_large', `bodies are at most ${MAX_BODY_BYTES} bytes`),
  });
  app.use('/v1/*', limit);
  app.use('/oauth/*', limit);
  app.use('/console/*', limit);
  app.use('/v1/*', async (c, next) => {
    c.set('actor', await authenticate(c.req.header('authorization'), c.req.header('x-acting-professional')));
    await next();
  });

  oauthRoutes(app, deps);
  signalRoutes(app, deps);
  noticeRoutes(app, deps);
  matchRoutes(app, deps);
  oversightRoutes(app, deps);
  opsRoutes(app, deps);
  // The console for professionals: pages, not the API, so it keeps its own errors and headers.
  app.route('/console', createConsole(deps, consoleConfig));

  app.notFound((c) => problemResponse(c, 404, 'not_found', 'no such resource'));
  app.onError((err, c) => {
    if (err instanceof DomainError) return domainProblem(c, err);
    if (err instanceof HTTPException && err.status < 500) {
      // Hono's own refusals, such as a body that is not JSON; its message holds no input.
      return problemResponse(c, err.status as 400, 'validation_failed', 'the request body could not be read as JSON');
    }
    deps.logger.error({ err, requestId: c.get('requestId'), route: c.req.routePath }, 'unexpected error');
    return problemResponse(c, 500, 'internal_error', `something went wrong; quote request id ${c.get('requestId')}`);
  });
  return app;
}
