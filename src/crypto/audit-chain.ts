import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

export const GENESIS_HASH = '0'.repeat(64);

/** The fields of an audit record that its hash covers, in a fixed order. */
export interface AuditFields {
  seq: number;
  at: string;
  agencyId: string | null;
  actor: string | null;
  action: string;
  subject: string | null;
  resource: string | null;
  outcome: string;
  requestId: string | null;
}

/** hash = SHA-256(prevHash ‖ canonical JSON of the record). Changing any field breaks the chain. */
export function chainHash(prevHash: string, r: AuditFields): string {
  const canonical = JSON.stringify([
    r.seq, r.at, r.agencyId, r.actor, r.action, r.subject, r.resource, r.outcome, r.requestId,
  ]);
  return bytesToHex(sha256(utf8ToBytes(`${prevHash}\n${canonical}`)));
}
