import { isValidBsn } from '../crypto/bsn.ts';
import { newId } from '../crypto/ids.ts';
import { registrableKinds } from '../policy/grants.ts';
import type { Tx } from '../store/db.ts';
import { findIdempotent, type IdempotencyRequest, rememberIdempotent } from '../store/idempotency.ts';
import { activeSignalIdOf, familyPseudonymsOfSignal, insertSignal, linkSignalToFamily, type SignalRow } from '../store/signals.ts';
import { findOrCreateSubject } from '../store/subjects.ts';
import { auditAccess } from './audit.ts';
import { coordinatorCandidates, reconcileMatch } from './matching.ts';
import { type Ctx, requireScope, withTransaction } from './context.ts';
import { addMonths, birthdayAt, isRealDate, minDate } from './dates.ts';
import { conflict, forbidden, unprocessable } from './errors.ts';
import { rememberExemption } from './shielding.ts';
import { loadOwnSignal, type SealedSignal, sealSignal, toSignalView } from './signal-record.ts';
import type { RegisterSignalInput, RegistrationWarning, SignalView } from './signal-schemas.ts';
import { registrationWarnings } from './registration-warnings.ts';
import { familyTypes } from '../policy/types.ts';

export interface RegisterSignalResult {
  /** 'created' (201), 'existing' (200: this agency already has an active signal for the subject). */
  outcome: 'created' | 'existing';
  signal: SignalView;
  replayed: boolean;
  /** For 'existing': the details given that differ from the active signal and were not applied. */
  warnings: RegistrationWarning[];
}

/** Districts are known from the agencies that declare they serve them. */
async function knownDistricts(tx: Tx, municipality: string): Promise<Set<string>> {
  return new Set((await coordinatorCandidates(tx, municipality)).flatMap((c) => c.districts));
}

/**
 * Registers that the actor's agency is involved with a young person (rules 1–3, 6).
 * The BSN is checked and pseudonymised here and goes no further.
 */
export async function registerSignal({ ctx, input, idempotency }: { ctx: Ctx; input: RegisterSignalInput; idempotency?: IdempotencyRequest }): Promise<RegisterSignalResult> {
  requireScope(ctx, 'signals:write');
  const { policy, keys, clock } = ctx.deps;
  const kinds = registrableKinds(policy, ctx.actor.agencyType);
  if (kinds.length === 0) throw forbidden('not_authorised_to_register', `agencies of type ${ctx.actor.agencyType} may not register signals`);
  // Without a kind, the first the policy lets this type register: a school's is a concern.
  const kind = input.kind ?? kinds[0]!;
  if (!kinds.includes(kind)) throw unprocessable('kind_not_allowed', `agencies of type ${ctx.actor.agencyType} may not register a ${kind} signal`);
  if (!isValidBsn(input.bsn)) throw unprocessable('invalid_bsn', 'the BSN is not valid (11-test)');
  const parents = input.parents ?? [];
  if (parents.length > 0 && !familyTypes(policy).has(ctx.actor.agencyType)) {
    throw unprocessable('parents_not_allowed', `the policy has no family matching for agencies of type ${ctx.actor.agencyType}: register without parents`);
  }
  parents.forEach((p, i) => {
    if (!isValidBsn(p.bsn)) throw unprocessable('invalid_parent_bsn', `the BSN of parent ${i + 1} is not valid (11-test)`);
    if (p.bsn === input.bsn) throw unprocessable('invalid_parent_bsn', `parent ${i + 1} has the young person's own BSN`);
  });
  if (parents.length === 2 && parents[0]!.bsn === parents[1]!.bsn) throw unprocessable('invalid_parent_bsn', 'the two parents have the same BSN');

  const now = clock.now();
  if (!isRealDate(input.birthDate) || birthdayAt(input.birthDate, 0) > now) {
    throw unprocessable('invalid_birth_date', 'the birth date is not a real date in the past');
  }
  const ageLimit = birthdayAt(input.birthDate, policy.subjects.maxAgeYears);
  if (ageLimit <= now) throw unprocessable('subject_too_old', `only young people under ${policy.subjects.maxAgeYears} can be registered`);
  const pseudonym = keys.pseudonymize(input.bsn);
  // The parents' BSNs go no further than this either: only their keyed pseudonyms are kept.
  const parentPseudonyms = parents.map((p) => keys.pseudonymize(p.bsn));

  return withTransaction(ctx.deps, async (tx) => {
    /** What the registration gave that the active signal does not hold (the first answer and a replay alike). */
    const warningsFor = async (row: SignalRow, sealed: SealedSignal) =>
      registrationWarnings(row.id, row.municipality, sealed, input, { given: parentPseudonyms, current: await familyPseudonymsOfSignal(tx, row.id) });
    if (idempotency) {
      const prior = await findIdempotent(tx, ctx.actor.agencyId, idempotency.key, now);
      if (prior) {
        if (prior.fingerprint !== idempotency.fingerprint) {
          throw conflict('idempotency_key_reused', 'this Idempotency-Key was used for another request');
        }
        const { row, sealed } = await loadOwnSignal(tx, ctx, prior.resourceId);
        await auditAccess(tx, ctx, { action: 'signal.register', subject: pseudonym, resource: row.id, outcome: 'replayed' });
        const outcome = prior.status === 201 ? 'created' : 'existing';
        const warnings = outcome === 'existing' ? await warningsFor(row, sealed) : [];
        return { outcome, signal: toSignalView(row, sealed), replayed: true, warnings } as const;
      }
    }
    if (input.district && !(await knownDistricts(tx, input.municipality)).has(input.district)) {
      throw unprocessable('unknown_district', 'no agency serves that district in that municipality');
    }
    const { subjectId, dataKey } = await findOrCreateSubject(tx, keys, pseudonym, now);
    const activeId = await activeSignalIdOf(tx, ctx.actor.agencyId, subjectId);

    let result: RegisterSignalResult;
    if (activeId) {
      const { row, sealed } = await loadOwnSignal(tx, ctx, activeId);
      result = { outcome: 'existing', signal: toSignalView(row, sealed), replayed: false, warnings: await warningsFor(row, sealed) };
    } else {
      const id = newId('sig', now);
      const at = now.toISOString();
      const row = {
        id,
        agencyId: ctx.actor.agencyId,
        subjectId,
        status: 'active' as const,
        municipality: input.municipality,
        informingPending: input.informed.status === 'pending',
        // Rule 5: active for the policy's period, and never past the subject's age limit.
        expiresAt: minDate(addMonths(now, policy.retention.activeMonths), ageLimit).toISOString(),
        registeredAt: at,
        updatedAt: at,
        endedAt: null,
        endReason: null,
      };
      const sealedPart: SealedSignal = {
        kind,
        district: input.district ?? null,
        informed: input.informed,
        professional: input.professional,
        reference: input.reference ?? null,
        birthDate: input.birthDate,
      };
      await insertSignal(tx, { ...row, sealed: sealSignal(dataKey, id, sealedPart) });
      for (const parent of parentPseudonyms) await linkSignalToFamily(tx, id, (await findOrCreateSubject(tx, keys, parent, now, 'family')).subjectId);
      await rememberExemption(tx, keys, { pseudonym, agencyId: ctx.actor.agencyId }, input.informed);
      await reconcileMatch(tx, ctx.deps, { subjectId, dataKey, pseudonym, kind: 'person' }, ctx.requestId);
      result = { outcome: 'created', signal: toSignalView({ ...row, sealed: Buffer.alloc(0) }, sealedPart), replayed: false, warnings: [] };
    }
    await auditAccess(tx, ctx, { action: 'signal.register', subject: pseudonym, resource: result.signal.id, outcome: result.outcome });
    if (idempotency) {
      await rememberIdempotent(tx, ctx.actor.agencyId, idempotency, result.outcome === 'created' ? 201 : 200, result.signal.id, now);
    }
    return result;
  });
}
