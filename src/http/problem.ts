import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DomainError, type ErrorKind } from '../app/errors.ts';

/** RFC 9457 problem details; `code` is the stable, machine-readable part. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
  requestId?: string;
}

const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
};

export function problemResponse(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  detail?: string,
  errors?: Problem['errors'],
): Response {
  const title = TITLES[status] ?? 'Error';
  const body: Problem = {
    type: `urn:betrokken:problem:${code}`,
    title,
    status,
    code,
    // Always present (NL GOV API Design Rules: status, title and detail).
    detail: detail || title,
    ...(errors ? { errors } : {}),
    requestId: c.get('requestId'),
  };
  if (status === 401) c.header('WWW-Authenticate', `Bearer error="${code === 'invalid_token' ? 'invalid_token' : 'invalid_request'}"`);
  return c.body(JSON.stringify(body), status, { 'Content-Type': 'application/problem+json' });
}

export function domainProblem(c: Context, err: DomainError): Response {
  if (err.code === 'insufficient_scope') c.header('WWW-Authenticate', 'Bearer error="insufficient_scope"');
  return problemResponse(c, STATUS[err.kind], err.code, err.message, err.fields);
}

/** Validation issues as a field list; messages name the rule, never echo the input. */
export function fieldErrors(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code?: string; keys?: string[] }>) {
  return issues.flatMap((i) => {
    const base = i.path.map(String).join('.');
    if (i.code === 'unrecognized_keys' && i.keys) {
      return i.keys.map((k) => ({ path: base ? `${base}.${k}` : k, message: 'unknown field: there is no place for it here' }));
    }
    return [{ path: base, message: i.message }];
  });
}
