import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { pino } from 'pino';
import { addAgency } from '../../src/app/agencies.ts';
import { addMonths } from '../../src/app/dates.ts';
import { sealSignal } from '../../src/app/signal-record.ts';
import { loadConfig } from '../../src/config.ts';
import { parseAgencyPublicKey } from '../../src/crypto/agency-keys.ts';
import { newId } from '../../src/crypto/ids.ts';
import { newDataKey } from '../../src/crypto/seal.ts';
import { openRuntime } from '../../src/runtime.ts';
import { sqliteDb } from '../../src/store/db.ts';
import { validBsn } from '../support/harness.ts';

export type Progress = (phase: string, done: number, total: number) => void;

export interface SeededAgency {
  id: string;
  type: string;
  privateKey: KeyObject;
}

const TYPES = ['school', 'gp', 'jgz', 'youth_care', 'veilig_thuis', 'gi'] as const;

/**
 * Seeds a data directory the way the service would have filled it: keys, agencies, subjects
 * with wrapped data keys and signals with sealed details, written in large transactions.
 * Subject i is BSN validBsn(i); each has `signals / subjects` signals of distinct agencies.
 */
export async function seed(
  dataDir: string,
  opts: { subjects: number; signals: number; expired?: boolean; agencies?: number },
  progress: Progress,
): Promise<SeededAgency[]> {
  const config = loadConfig({ BETROKKEN_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const deps = await openRuntime(config, pino({ level: 'silent' }));
  const agencies: SeededAgency[] = [];
  const count = opts.agencies ?? 24;
  for (let i = 0; i < count; i++) {
    const type = i === 0 ? 'wij' : TYPES[i % TYPES.length]!;
    const pair = generateKeyPairSync('ed25519');
    const rec = await addAgency(deps, {
      name: `${type} ${i}`,
      type,
      municipality: '0014',
      districts: type === 'wij' ? ['selwerd'] : [],
      grants: [],
      publicKey: await parseAgencyPublicKey(pair.publicKey.export({ type: 'spki', format: 'pem' }) as string),
    });
    agencies.push({ id: rec.id, type, privateKey: pair.privateKey });
  }
  const registrants = agencies.filter((a) => a.type !== 'wij');
  const db = sqliteDb(deps.store).$client;
  db.pragma('synchronous = OFF');
  const insertSubject = db.prepare('insert into subjects (id, pseudonym, wrapped_key, kek_version, created_at) values (?, ?, ?, ?, ?)');
  const insertSignal = db.prepare(
    `insert into signals (id, agency_id, subject_id, status, municipality, informing_pending, sealed, registered_at, expires_at, updated_at)
     values (?, ?, ?, 'active', '0014', 0, ?, ?, ?, ?)`,
  );
  const now = new Date();
  const registered = opts.expired ? addMonths(now, -25) : now;
  const at = registered.toISOString();
  const expires = addMonths(registered, 24).toISOString();
  const perSubject = opts.signals / opts.subjects;
  let made = 0;
  const BATCH = 5000;
  for (let start = 0; start < opts.subjects; start += BATCH) {
    db.transaction(() => {
      for (let i = start; i < Math.min(start + BATCH, opts.subjects); i++) {
        const subjectId = newId('sub', registered);
        const dek = newDataKey();
        const { wrapped, kekVersion } = deps.keys.wrapDataKey(dek, subjectId);
        insertSubject.run(subjectId, deps.keys.pseudonymize(validBsn(i)), Buffer.from(wrapped), kekVersion, at);
        // Spread the remainder so the total comes out at opts.signals.
        const k = Math.floor((i + 1) * perSubject) - Math.floor(i * perSubject);
        for (let j = 0; j < k; j++) {
          const agency = registrants[(i + j * 7) % registrants.length]!;
          const id = newId('sig', registered);
          const sealed = sealSignal(dek, id, {
            kind: 'involvement',
            district: 'selwerd',
            informed: { status: 'informed' },
            professional: { name: 'J. de Vries', email: 'j.devries@example.nl' },
            reference: null,
            birthDate: '2012-04-01',
          });
          insertSignal.run(id, agency.id, subjectId, sealed, at, expires, at);
          made++;
        }
      }
    })();
    progress('seed', Math.min(start + BATCH, opts.subjects), opts.subjects);
  }
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_checkpoint(TRUNCATE)');
  await deps.store.close();
  if (made !== opts.signals) throw new Error(`seeded ${made} signals, wanted ${opts.signals}`);
  return agencies;
}
