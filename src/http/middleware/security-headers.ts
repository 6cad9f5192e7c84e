import type { MiddlewareHandler } from 'hono';
import { API_VERSION } from '../openapi-shared.ts';

export interface SecurityHeadersOptions {
  /** The service's public URL: Strict-Transport-Security is sent only when it is https. */
  issuer: string;
}

/** An API answer loads nothing and may be framed by no one; /docs sets its own policy. */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/**
 * Headers every response carries (NL GOV API Design Rules /core/version-header and the
 * transport-security module): the API version, no caching of what may hold personal data, no
 * sniffing, no framing, and HSTS behind https. Set before the handler runs, so that a route may
 * override one (the JWKS may be cached, /docs has its own CSP) and the response is built once (a
 * header set on a finished response makes Hono copy it, off the server's fast path).
 */
export function securityHeaders({ issuer }: SecurityHeadersOptions): MiddlewareHandler {
  const hsts = issuer.startsWith('https://');
  return async (c, next) => {
    c.header('API-Version', API_VERSION);
    c.header('Cache-Control', 'no-store');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Content-Security-Policy', API_CONTENT_SECURITY_POLICY);
    if (hsts) c.header('Strict-Transport-Security', 'max-age=31536000');
    await next();
  };
}
