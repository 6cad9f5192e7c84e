import { z } from 'zod';
import type { Scope } from '../policy/types.ts';

/**
 * The version of the API contract: the `API-Version` header of every response and `info.version`
 * (semver, NL GOV API Design Rules /core/version-header). Its major is the `/v1` in every path.
 */
export const API_VERSION = '1.0.0';
export const API_BASE_PATH = `/v${API_VERSION.split('.')[0]}`;

/** Shapes shared by every route's OpenAPI description. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().meta({ description: 'Stable machine-readable error code.' }),
    detail: z.string().meta({ description: 'What went wrong, for a person; never the input.' }),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    requestId: z.string().optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details.' });

export const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: problemSchema } },
});

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** The security requirement of an operation: an access token (oauth2 client credentials) holding `scope`. */
export const requires = (scope: Scope) => [{ oauth2: [scope] }];
/** @deprecated name the scope with `requires(scope)`, so that the document says which one a call needs. */
export const bearer = [{ oauth2: [] as string[] }];

export const authProblems = {
  401: problem('Missing, invalid or expired access token (`unauthorized`, `invalid_token`).'),
  403: problem('The token lacks the scope (`insufficient_scope`).'),
};

export const idempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'at most 255 visible ASCII characters')
    .optional()
    .meta({ description: 'Replays the first answer for a retried request (kept 24 hours).' }),
});
