import { expect } from 'vitest';
import type { Harness } from './harness.ts';

/** A signed checkpoint as GET /v1/audit/checkpoint answers it. */
export interface CheckpointBody {
  seq: number;
  head: string;
  at: string;
  issuer: string;
  kid: string;
  jws: string;
}

/** The service's checkpoint of its audit chain, fetched as an agency with audit:read. */
export async function fetchCheckpoint(h: Harness, token: string): Promise<CheckpointBody> {
  const res = await h.call('GET', '/v1/audit/checkpoint', { token });
  expect(res.status).toBe(200);
  return (await res.json()) as CheckpointBody;
}


/** A row of audit_log as the database holds it (column names). */
export interface AuditLogRow {
  seq: number;
  at: string;
  agency_id: string | null;
  actor: string | null;
  action: string;
  subject: string | null;
  resource: string | null;
  outcome: string;
  request_id: string | null;
}
