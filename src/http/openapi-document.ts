import type { OpenAPIHono } from '@hono/zod-openapi';
import { ACTING_PROFESSIONAL_PATTERN } from '../app/authenticate.ts';
import { describeLegalBasis } from '../policy/legal-basis.ts';
import type { Deps } from '../app/context.ts';
import type { Scope } from '../policy/types.ts';
import type { AppEnv } from './env.ts';
import { API_BASE_PATH, API_VERSION, problem } from './openapi-shared.ts';

/** What each scope lets a token do; the policy decides which agency types may hold it. */
const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  'signals:write': "Register, update and withdraw your agency's signals.",
  'signals:read': "Read your agency's own signals.",
  'notices:read': 'Read and acknowledge the notices in your inbox.',
  'matches:coordinate': 'Coordinate matches: claim, convene case tables, record outcomes, close.',
  'subjects:rights': "Answer a young person's or parent's request for access or erasure.",
  'audit:read': 'Read the audit log and its signed checkpoints.',
  'stats:read': 'Read statistics with small cells suppressed.',
  admin: 'Administer the service.',
};

type Json = Record<string, unknown>;
type Operation = { parameters?: unknown[]; responses?: Record<string, Json & { description?: string }> };

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);

/**
 * The OpenAPI document of the versioned API, as the NL GOV API Design Rules want it: the server URL
 * holds the major version (so paths are relative to `/v1`), `info.contact` is set, every response
 * names its `API-Version` header, and authentication is the oauth2 client-credentials flow with the
 * scope each operation requires. Paths outside `/v1` (token endpoint, JWKS, health) are not part of
 * the versioned API: the token endpoint is the security scheme's `tokenUrl`.
 */
export function openApiDocument(app: OpenAPIHono<AppEnv>, deps: Deps): Json {
  const generated = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Betrokken',
      version: API_VERSION,
      description: [
        'Referral index for youth care: agencies register involvement or concern, never why. ' +
          `Get an access token at ${deps.issuer}/oauth/token (OAuth 2.0 client credentials with private_key_jwt, RFC 7523; ` +
          `metadata at ${deps.issuer}/.well-known/oauth-authorization-server); ` +
          `the service's public keys, which also sign webhooks, are at ${deps.issuer}/.well-known/jwks.json.`,
        `## Legal basis\n\nAs the policy in force (\`${deps.policy.id}\`, version ${deps.policy.version}) names it:\n\n${describeLegalBasis(deps.policy.legalBasis)}`,
      ].join('\n\n'),
      contact: { ...(deps.contact ?? { name: 'Betrokken service desk', url: `${deps.issuer}/docs`, email: `servicedesk@${new URL(deps.issuer).hostname}` }) },
    },
    servers: [{ url: `${deps.issuer}${API_BASE_PATH}`, description: 'This service.' }],
  });
  const doc = structuredClone(generated) as unknown as Json & { paths?: Record<string, Json>; webhooks?: Record<string, Json>; components?: Record<string, Json> };

  const paths: Record<string, Json> = {};
  for (const [p, item] of Object.entries(doc.paths ?? {})) {
    if (p.startsWith(`${API_BASE_PATH}/`)) paths[p.slice(API_BASE_PATH.length)] = item;
  }
  doc.paths = paths;

  const components = (doc.components ??= {});
  components.headers = {
    ...components.headers,
    ApiVersion: {
      description: 'The full version of the API contract (semver); the major version is the one in the server URL.',
      required: true,
      schema: { type: 'string', example: API_VERSION },
    },
  };
  components.securitySchemes = {
    ...components.securitySchemes,
    oauth2: {
      type: 'oauth2',
      description:
        'OAuth 2.0 client credentials. The client authenticates with a JWT signed with its own key (private_key_jwt, ' +
        'RFC 7523): iss = sub = agency id, aud = the issuer, jti, exp at most 5 minutes ahead. Send the access token as ' +
        '`Authorization: Bearer …`.',
      flows: { clientCredentials: { tokenUrl: `${deps.issuer}/oauth/token`, scopes: SCOPE_DESCRIPTIONS } },
    },
  };
  components.parameters = { ...components.parameters, ActingProfessional: actingProfessionalParameter() };

  const refused = 'X-Acting-Professional is not an opaque professional reference (`invalid_acting_professional`).';
  for (const op of operations(paths)) {
    // A parameter whose schema is deprecated (a field's old name) is itself deprecated, so that
    // generators mark it.
    for (const param of (op.parameters ?? []) as Array<{ schema?: { deprecated?: boolean }; deprecated?: boolean }>) {
      if (param.schema?.deprecated) param.deprecated = true;
    }
    (op.parameters ??= []).push({ $ref: '#/components/parameters/ActingProfessional' });
    const responses = (op.responses ??= {});
    const bad = responses['400'];
    responses['400'] = bad ? { ...bad, description: `${bad.description ?? ''} ${refused}`.trim() } : problem(refused);
  }
  for (const op of operations(paths)) {
    for (const [status, response] of Object.entries(op.responses ?? {})) {
      op.responses![status] = { ...response, headers: { ...(response.headers as Json | undefined), 'API-Version': { $ref: '#/components/headers/ApiVersion' } } };
    }
  }
  optionalDefaultsInRequests(paths, (components.schemas ?? {}) as Record<string, Json>);
  return doc;
}

/**
 * The generator describes a schema as it is after parsing, so a field with a default is listed as
 * required; a client may leave it out of a request body. Stock client generators read `required`.
 */
function optionalDefaultsInRequests(paths: Record<string, Json>, schemas: Record<string, Json>): void {
  const ref = /^#\/components\/schemas\/(.+)$/;
  for (const op of operations(paths)) {
    const content = ((op as { requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> } }).requestBody?.content ?? {});
    for (const media of Object.values(content)) {
      const name = media.schema?.$ref?.match(ref)?.[1];
      const schema = name ? (schemas[name] as { required?: string[]; properties?: Record<string, { default?: unknown }> } | undefined) : undefined;
      if (!schema?.required || !schema.properties) continue;
      schema.required = schema.required.filter((key) => schema.properties![key]?.default === undefined);
    }
  }
}

function* operations(items: Record<string, Json>): Generator<Operation> {
  for (const item of Object.values(items)) {
    for (const [method, op] of Object.entries(item)) if (HTTP_METHODS.has(method)) yield op as Operation;
  }
}

/**
 * Every /v1 operation takes the X-Acting-Professional header; it is checked before any route runs
 * (app/authenticate.ts), so it is declared here, once, with its pattern.
 */
function actingProfessionalParameter(): Json {
  return {
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
}
