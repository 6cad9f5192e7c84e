/**
 * Domain errors: a stable `code` and a kind that transports map to their own answer
 * (http/problem.ts for HTTP, the exit code for the CLI). Messages never hold subject data.
 */
export type ErrorKind =
  | 'invalid'          // the request is malformed
  | 'unprocessable'    // well-formed, but breaks a rule
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict';

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly fields?: Array<{ path: string; message: string }>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalid = (code: string, message: string, fields?: Array<{ path: string; message: string }>) =>
  new DomainError('invalid', code, message, fields);
export const unprocessable = (code: string, message: string) => new DomainError('unprocessable', code, message);
export const forbidden = (code: string, message: string) => new DomainError('forbidden', code, message);
export const notFound = (code: string, message: string) => new DomainError('not_found', code, message);
export const conflict = (code: string, message: string) => new DomainError('conflict', code, message);
export const unauthenticated = (code: string, message: string) => new DomainError('unauthenticated', code, message);
