import type { KeyRing } from '../crypto/key-ring.ts';
import type { Store } from '../store/db.ts';
import { checkpointTruncate, legacySignalBatch, replaceLegacySignal } from '../store/legacy-signals.ts';
import { loadSubjectKey } from '../store/subjects.ts';
import { openSignal, type SealedSignal, sealSignal } from './signal-record.ts';

const BATCH = 1000;

/**
 * Seals into each signal what a database made before migration 0004 kept in the clear (kind,
 * district, informing state), which that migration moved aside because SQL cannot seal. Runs at
 * start, once the keys are loaded; a batch is one transaction, so an interrupted run resumes where
 * it stopped. Returns how many signals it sealed.
 */
export async function resealLegacySignals(store: Store, keys: KeyRing): Promise<number> {
  let done = 0;
  for (;;) {
    const sealed = await store.transaction(async (tx) => {
      const rows = await legacySignalBatch(tx, BATCH);
      for (const { legacy, signal } of rows) {
        if (!signal) {
          await replaceLegacySignal(tx, legacy.signalId, null); // the signal was erased meanwhile
          continue;
        }
        const { dataKey } = await loadSubjectKey(tx, keys, signal.subjectId);
        const informed = (
          legacy.informedStatus === 'exempt' ? { status: 'exempt', exemption: legacy.informedExemption } : { status: legacy.informedStatus }
        ) as SealedSignal['informed'];
        const payload: SealedSignal = {
          ...openSignal(dataKey, signal),
          kind: legacy.kind as SealedSignal['kind'],
          district: legacy.district,
          informed,
        };
        await replaceLegacySignal(tx, signal.id, sealSignal(dataKey, signal.id, payload));
      }
      return rows.length;
    });
    done += sealed;
    if (sealed < BATCH) break;
  }
  // The plaintext was overwritten (secure_delete); a checkpoint takes the old pages out of the file.
  if (done > 0) await checkpointTruncate(store);
  return done;
}
