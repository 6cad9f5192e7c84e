import { decodeJwt } from 'jose';
import { z } from 'zod';
import { signCheckpoint } from '../crypto/audit-checkpoint.ts';
import { readChainHead, verifyChainSince } from '../store/audit.ts';
import { type CheckpointRow, latestCheckpoint, saveCheckpoint } from '../store/audit-checkpoints.ts';
import { type Ctx, type Deps, requireScope, withTransaction } from './context.ts';
import { conflict } from './errors.ts';

export const auditCheckpointSchema = z
  .object({
    seq: z.number().int().min(0).meta({ description: 'The number of records in the chain when it was signed (the sequence number of the last).' }),
    head: z.string().regex(/^[0-9a-f]{64}$/).meta({ description: 'The hash of record `seq` (SHA-256, hex).' }),
    at: z.iso.datetime().meta({ description: 'When the checkpoint was signed.' }),
    issuer: z.string().meta({ description: 'The service that signed it (`iss`).' }),
    kid: z.string().meta({ description: 'The signing key, as published at /.well-known/jwks.json.' }),
    jws: z.string().meta({
      description:
        'The checkpoint itself: a JWT (compact JWS, `EdDSA`, header `typ: audit-checkpoint+jwt` and `kid`) with claims `iss`, `iat`, `seq` and `head`. ' +
        'Keep it; `betrokken audit verify --checkpoint FILE` checks that the chain still extends it.',
    }),
  })
  .meta({ id: 'AuditCheckpoint', description: 'A signed checkpoint of the audit chain, for others to keep.' });
export type AuditCheckpoint = z.infer<typeof auditCheckpointSchema>;

function view(row: CheckpointRow): AuditCheckpoint {
  return { seq: row.seq, head: row.head, at: row.at, issuer: String(decodeJwt(row.jws).iss), kid: row.kid, jws: row.jws };
}

/**
 * Signs the chain's head, unless the latest checkpoint already covers it. Before it signs, the
 * records appended since the last checkpoint are checked, so that the service never signs a
 * chain that does not extend what it signed before (code `audit_chain_broken`).
 * Signing is async, so it happens between two short transactions; a record appended meanwhile
 * is simply covered by the next checkpoint.
 */
export async function writeCheckpoint(deps: Deps): Promise<AuditCheckpoint> {
  const { head, latest } = await withTransaction(deps, async (tx) => ({ head: await readChainHead(tx), latest: await latestCheckpoint(tx) }));
  if (latest && latest.seq === head.seq && latest.head === head.hash) return view(latest);
  if (latest) {
    const since = await verifyChainSince(deps.store.reader, { seq: latest.seq, head: latest.head });
    if (!since.ok) {
      throw conflict('audit_chain_broken', `the audit chain does not extend the checkpoint at record ${latest.seq} (record ${since.brokenSeq}: ${since.reason}); run betrokken audit verify`);
    }
  }
  const { jws, checkpoint } = await signCheckpoint(deps.keys, deps.issuer, head, deps.clock.now());
  const row = await withTransaction(deps, async (tx) => saveCheckpoint(tx, { seq: checkpoint.seq, head: checkpoint.head, at: checkpoint.at, kid: checkpoint.kid, jws }));
  return view(row);
}

/**
 * The periodic job: a checkpoint when the chain has grown and the last one is at least
 * `everyMs` old. Returns the new checkpoint, or null when none was due.
 */
export async function checkpointIfDue(deps: Deps, everyMs: number): Promise<AuditCheckpoint | null> {
  const { head, latest } = await withTransaction(deps, async (tx) => ({ head: await readChainHead(tx), latest: await latestCheckpoint(tx) }));
  if (head.seq === 0 || (latest && latest.seq >= head.seq)) return null;
  if (latest && deps.clock.now().getTime() - Date.parse(latest.at) < everyMs) return null;
  return writeCheckpoint(deps);
}

/**
 * GET /v1/audit/checkpoint: a checkpoint of the chain as it is now — the latest one if the chain
 * has not grown since, else a new one — so that what the caller keeps covers every record up to
 * its request. Reading it is not itself audited: it holds no subject data, and a record of every
 * read would make every checkpoint stale at once.
 */
export async function currentCheckpoint({ ctx }: { ctx: Ctx }): Promise<AuditCheckpoint> {
  requireScope(ctx, 'audit:read');
  return writeCheckpoint(ctx.deps);
}
