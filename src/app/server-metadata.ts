import { z } from 'zod';
import { ASSERTION_ALGS } from '../crypto/tokens.ts';
import { SCOPES } from '../policy/types.ts';

/** What RFC 8414 authorization server metadata says about this service. */
export const serverMetadataSchema = z
  .object({
    issuer: z.string(),
    token_endpoint: z.string(),
    jwks_uri: z.string(),
    scopes_supported: z.array(z.enum(SCOPES)),
    response_types_supported: z.array(z.string()).meta({ description: 'Empty: there is no authorization endpoint, only client credentials.' }),
    grant_types_supported: z.array(z.literal('client_credentials')),
    token_endpoint_auth_methods_supported: z.array(z.literal('private_key_jwt')),
    token_endpoint_auth_signing_alg_values_supported: z.array(z.enum(ASSERTION_ALGS)),
    service_documentation: z.string(),
  })
  .meta({ id: 'AuthorizationServerMetadata', description: 'RFC 8414 §2' });
export type ServerMetadata = z.infer<typeof serverMetadataSchema>;

/**
 * The service's authorization server metadata (RFC 8414), so that a stock OAuth client finds
 * the token endpoint, the one client authentication method and its algorithms by discovery.
 */
export function authorizationServerMetadata(issuer: string): ServerMetadata {
  return {
    issuer,
    token_endpoint: `${issuer}/oauth/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    scopes_supported: [...SCOPES],
    response_types_supported: [],
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    service_documentation: `${issuer}/docs`,
  };
}
