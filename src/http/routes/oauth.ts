import type { Context } from 'hono';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { Deps } from '../../app/context.ts';
import { issueToken, OAuthError, refuseSignIn, type TokenRequest } from '../../app/issue-token.ts';
import { authorizationServerMetadata, serverMetadataSchema } from '../../app/server-metadata.ts';
import type { AppEnv } from '../env.ts';
import { json } from '../openapi-shared.ts';

const tokenRequestSchema = z
  .object({
    grant_type: z.literal('client_credentials'),
    client_assertion_type: z.literal('urn:ietf:params:oauth:client-assertion-type:jwt-bearer'),
    client_assertion: z.string().meta({ description: 'JWT signed with the agency key (EdDSA or Ed25519, ES256): iss = sub = agency id, aud = issuer, jti, exp ≤ 5 min.' }),
    client_id: z.string().optional(),
    scope: z.string().optional().meta({ description: 'Space-separated scopes; default: all the agency may hold.' }),
  })
  .meta({ id: 'TokenRequest' });

const tokenResponseSchema = z
  .object({ access_token: z.string(), token_type: z.literal('Bearer'), expires_in: z.number().int(), scope: z.string() })
  .meta({ id: 'TokenResponse' });

const oauthErrorSchema = z
  .object({
    error: z.enum(['invalid_request', 'invalid_client', 'invalid_grant', 'invalid_scope', 'unsupported_grant_type']),
    error_description: z.string().optional(),
  })
  .meta({ id: 'OAuthError', description: 'RFC 6749 §5.2' });

const token = createRoute({
  method: 'post',
  path: '/oauth/token',
  tags: ['auth'],
  summary: 'Exchange a signed client assertion for an access token (RFC 7523, private_key_jwt)',
  request: { body: { required: true, content: { 'application/x-www-form-urlencoded': { schema: tokenRequestSchema } } } },
  responses: {
    200: json(tokenResponseSchema, 'An access token.'),
    400: json(oauthErrorSchema, 'A malformed request, an unsupported grant or a scope not granted.'),
    401: json(oauthErrorSchema, 'Client authentication failed (`invalid_client`).'),
  },
});

const jwks = createRoute({
  method: 'get',
  path: '/.well-known/jwks.json',
  tags: ['auth'],
  summary: "The service's public signing keys (access tokens, webhooks)",
  responses: { 200: json(z.object({ keys: z.array(z.record(z.string(), z.unknown())) }), 'JWK Set.') },
});

const metadata = createRoute({
  method: 'get',
  path: '/.well-known/oauth-authorization-server',
  tags: ['auth'],
  summary: 'Authorization server metadata (RFC 8414), for discovery by stock OAuth clients',
  responses: { 200: json(serverMetadataSchema, 'The metadata.') },
});

function oauthError(c: Context, err: OAuthError): Response {
  return c.json({ error: err.error, error_description: err.description }, err.error === 'invalid_client' ? 401 : 400, { 'Cache-Control': 'no-store' });
}

export function oauthRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  // The form is read by hand: OAuth errors have their own shape (RFC 6749), not problem+json.
  app.openAPIRegistry.registerPath(token);
  app.post('/oauth/token', async (c) => {
      const requestId = c.get('requestId');
      const type = c.req.header('content-type') ?? '';
      if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
        const err = new OAuthError('invalid_request', 'send the request as application/x-www-form-urlencoded', 'not_form_encoded');
        await refuseSignIn(deps, err, {}, requestId);
        return oauthError(c, err);
      }
      const form = new URLSearchParams(await c.req.text());
      const req: TokenRequest = {};
      for (const field of ['grant_type', 'client_assertion_type', 'client_assertion', 'client_id', 'scope'] as const) {
        const values = form.getAll(field);
        if (values.length > 1) {
          const err = new OAuthError('invalid_request', `${field} is given more than once`, 'field_repeated');
          await refuseSignIn(deps, err, req, requestId);
          return oauthError(c, err);
        }
        if (values[0] !== undefined) req[field] = values[0];
      }
      try {
        const answer = await issueToken(deps, req, requestId);
        c.header('Cache-Control', 'no-store');
        return c.json(answer, 200);
      } catch (err) {
        if (err instanceof OAuthError) return oauthError(c, err);
        throw err;
      }
  });
  app.openapi(metadata, (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(authorizationServerMetadata(deps.issuer), 200);
  });
  app.openapi(jwks, (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(deps.keys.jwks(), 200);
  });
}
