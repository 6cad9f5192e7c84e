import { openJson, sealJson } from '../crypto/seal.ts';
import type { Tx } from '../store/db.ts';
import { ownSignal, type SignalRow } from '../store/signals.ts';
import { loadSubjectKey } from '../store/subjects.ts';
import type { Ctx } from './context.ts';
import { notFound } from './errors.ts';
import type { SignalKind } from '../policy/types.ts';
import type { RegisterSignalInput, SignalView } from './signal-schemas.ts';

export type { SignalRow };

/**
 * What a signal keeps sealed under its subject's data key, bound to the signal id: everything no
 * query needs, so that a stolen database file shows no kind, district or informing exemption.
 */
export interface SealedSignal {
  kind: SignalKind;
  district: string | null;
  informed: RegisterSignalInput['informed'];
  professional: RegisterSignalInput['professional'];
  reference: string | null;
  birthDate: string;
}

export function sealSignal(dataKey: Uint8Array, signalId: string, payload: SealedSignal): Buffer {
  return Buffer.from(sealJson(dataKey, payload, `signal:${signalId}`));
}

export function openSignal(dataKey: Uint8Array, row: SignalRow): SealedSignal {
  return openJson<SealedSignal>(dataKey, row.sealed, `signal:${row.id}`);
}

export function toSignalView(row: SignalRow, sealed: SealedSignal): SignalView {
  return {
    id: row.id,
    status: row.status,
    kind: sealed.kind,
    municipality: row.municipality,
    district: sealed.district,
    registeredAt: row.registeredAt,
    expiresAt: row.expiresAt,
    endedAt: row.endedAt,
    endReason: row.endReason,
    reference: sealed.reference,
    professional: sealed.professional,
    informed: sealed.informed,
  };
}

/** The caller's own signal with its sealed part opened; another agency's signal is "not found". */
export async function loadOwnSignal(tx: Tx, ctx: Ctx, id: string): Promise<{ row: SignalRow; sealed: SealedSignal; dataKey: Uint8Array; pseudonym: string }> {
  const row = await ownSignal(tx, ctx.actor.agencyId, id);
  if (!row) throw notFound('signal_not_found', 'no such signal');
  const { dataKey, pseudonym } = await loadSubjectKey(tx, ctx.deps.keys, row.subjectId);
  return { row, sealed: openSignal(dataKey, row), dataKey, pseudonym };
}
