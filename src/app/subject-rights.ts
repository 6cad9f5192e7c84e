import { z } from 'zod';
import { isValidBsn } from '../crypto/bsn.ts';
import { newId } from '../crypto/ids.ts';
import { decide } from '../policy/decide.ts';
import { AGENCY_TYPES, type AgencyType, legalBasisSchema } from '../policy/types.ts';
import { appendAudit } from '../store/audit.ts';
import type { Tx } from '../store/db.ts';
import { eraseSubject } from '../store/erase.ts';
import { insertSubjectlessNotice } from '../store/notices.ts';
import { markShielded } from '../store/shield-markers.ts';
import {
  agenciesByIds, auditOfSubject, signalsOfFamily, signalsOfSubject, subjectIdOf, unlinkFamily,
} from '../store/subject-records.ts';
import { loadSubjectKey, subjectKeys } from '../store/subjects.ts';
import { familyParties } from '../policy/family.ts';
import { coordinatorCandidates, endBeforeErasure, forgetInFamilies, reconcileFamilies } from './matching.ts';
import { type Ctx, requireScope, withTransaction } from './context.ts';
import { unprocessable } from './errors.ts';
import { type FamilySignal, familyAccesses, matchSpans } from './family-view.ts';
import { letsThrough, locate, partyLens } from '../policy/lens.ts';
import { openSignal } from './signal-record.ts';
import { type NoticeBody, noticeBodySchema } from './notice-schemas.ts';
import { SAFETY_EXEMPTIONS, shieldedAgencies, type Shielding } from './shielding.ts';
import { informedSchema } from './signal-schemas.ts';

/** Subject rights (DESIGN rule 7, API.md): what a young person or parent may ask of the index. */

export const accessRequestSchema = z.strictObject({ bsn: z.string() }).meta({ id: 'SubjectAccessRequest' });
export const erasureRequestSchema = z
  .strictObject({ bsn: z.string(), reason: z.enum(['registered_in_error', 'court_order', 'other']) })
  .meta({ id: 'SubjectErasureRequest' });

const agencyBrief = z.object({ name: z.string(), type: z.enum(AGENCY_TYPES) });
type AgencyBrief = z.infer<typeof agencyBrief>;

const matchBrief = z.strictObject({
  status: z.enum(['open', 'ended']),
  createdAt: z.iso.datetime(),
  endedAt: z.iso.datetime().nullable(),
  coordinator: agencyBrief.nullable().meta({ description: 'The coordinator the match is routed to, as its kind and name.' }),
});

export const accessReportSchema = z
  .strictObject({
    registrations: z.array(
      z.strictObject({
        agency: agencyBrief,
        kind: z.string(),
        status: z.enum(['active', 'ended']),
        registeredAt: z.iso.datetime(),
        expiresAt: z.iso.datetime(),
        endedAt: z.iso.datetime().nullable(),
        endReason: z.string().nullable(),
        informed: informedSchema,
      }),
    ),
    matches: z
      .array(matchBrief)
      .meta({ description: 'The times two or more of the agencies listed were involved at once, and who coordinates.' }),
    familyMatches: z.array(matchBrief).meta({
      description:
        'For a parent: the times two or more agencies were involved with different children of theirs at once (family matches), and who coordinates. ' +
        'The agencies and children are not named here: each child\'s own request shows its registrations.',
    }),
    accesses: z.array(z.strictObject({ at: z.iso.datetime(), agency: agencyBrief, action: z.string(), outcome: z.string() })),
    explanation: z
      .strictObject({ index: z.string().meta({ description: 'The name of the index, as its policy gives it.' }), legalBasis: legalBasisSchema })
      .meta({ description: 'Why the index exists and what it relies on, exactly as its policy names it: the same for every young person.' }),
  })
  .meta({
    id: 'SubjectAccessReport',
    description: 'The answer for the family. What the policy shields leaves no trace in it; what was left out, and why, is in the audit record of the request.',
  });
export type AccessReport = z.infer<typeof accessReportSchema>;

export const erasureResultSchema = z
  .strictObject({
    erased: z.literal(true).meta({ description: 'Nothing of the young person remains but the audit records (also when nothing was registered).' }),
    signals: z.number().int().meta({ description: 'Registrations erased, as the access request would have listed them.' }),
    matches: z.number().int().meta({ description: 'Matches erased (child and family matches), as the access request would have listed them.' }),
  })
  .meta({ id: 'SubjectErasureResult' });
export type ErasureResult = z.infer<typeof erasureResultSchema>;

/** The rule a subject.erased notice names: a registrant is told when its signal is erased. */
export const ERASURE_NOTICE_RULE = 'builtin.erasure-tells-registrants';

function pseudonymOf(ctx: Ctx, bsn: string): string {
  if (!isValidBsn(bsn)) throw unprocessable('invalid_bsn', 'the BSN is not valid (11-test)');
  return ctx.deps.keys.pseudonymize(bsn);
}

interface Assessed {
  report: AccessReport;
  subjectId: string | undefined;
  signals: FamilySignal[];
  /** For the audit record of the request only, sealed: what was left out and why. */
  withheld: Array<Shielding & { registrations: number; accesses: number }>;
}

/** The young person's signals with what the answer needs of their sealed part. */
async function openSignals(tx: Tx, ctx: Ctx, subjectId: string): Promise<FamilySignal[]> {
  const rows = await signalsOfSubject(tx, subjectId);
  if (rows.length === 0) return [];
  const { dataKey } = await loadSubjectKey(tx, ctx.deps.keys, subjectId);
  return rows.map((row) => {
    const { kind, district, informed } = openSignal(dataKey, row);
    return { ...row, kind, district, informed };
  });
}

/** The family's answer and what it withheld, from the records as they stand. */
async function assess(tx: Tx, ctx: Ctx, pseudonym: string): Promise<Assessed> {
  const { keys, policy } = ctx.deps;
  const subjectId = await subjectIdOf(tx, pseudonym);
  const signals = subjectId ? await openSignals(tx, ctx, subjectId) : [];
  const audit = await auditOfSubject(tx, pseudonym);
  // A signal registered before shielding markers existed still shields its agency; the marker is
  // written now, so the shielding outlives an erasure.
  for (const s of signals) if (s.informed.status === 'exempt' && SAFETY_EXEMPTIONS.has(s.informed.exemption)) await markShielded(tx, keys, pseudonym, s.agencyId);

  const involved = await agenciesByIds(tx, [...signals.map((s) => s.agencyId), ...audit.flatMap((a) => (a.agencyId ? [a.agencyId] : []))]);
  const shielding = await shieldedAgencies(tx, keys, policy, pseudonym, new Map([...involved].map(([id, a]) => [id, { type: a.type as AgencyType }])));
  const shielded = new Set(shielding.keys());

  const visible = signals.filter((s) => !shielded.has(s.agencyId));
  const spans = matchSpans(visible);
  const coordinators: Array<string | null> = [];
  for (const span of spans) coordinators.push(await routedCoordinator(tx, ctx, span.lastParties, involved));
  const typeOf = (id: string) => involved.get(id)!.type as AgencyType;
  const sees = (viewer: string, other: string) => letsThrough(partyLens(policy, typeOf(viewer)), typeOf(other));
  const accesses = familyAccesses(audit, shielded, spans.map((span, i) => ({ ...span, coordinatorId: coordinators[i] ?? null })), visible, sees);
  const names = await agenciesByIds(tx, [...visible.map((s) => s.agencyId), ...accesses.map((a) => a.agencyId), ...coordinators.flatMap((c) => (c ? [c] : []))]);
  const brief = (id: string): AgencyBrief => ({ name: names.get(id)!.name, type: names.get(id)!.type as AgencyType });

  const report: AccessReport = {
    registrations: visible.map((s) => ({
      agency: brief(s.agencyId),
      kind: s.kind,
      status: s.status,
      registeredAt: s.registeredAt,
      expiresAt: s.expiresAt,
      endedAt: s.endedAt,
      endReason: s.endReason,
      informed: s.informed,
    })),
    matches: spans.map((span, i) => ({
      status: span.until === null ? ('open' as const) : ('ended' as const),
      createdAt: span.from,
      endedAt: span.until,
      coordinator: coordinators[i] ? brief(coordinators[i]) : null,
    })),
    accesses: accesses.map((a) => ({ at: a.at, agency: brief(a.agencyId), action: a.action, outcome: a.outcome })),
    familyMatches: await familyMatches(tx, ctx, pseudonym),
    explanation: { index: policy.name, legalBasis: policy.legalBasis },
  };
  const withheld = [...shielding.values()]
    .map((s) => ({
      ...s,
      registrations: signals.filter((r) => r.agencyId === s.agencyId).length,
      accesses: audit.filter((r) => r.agencyId === s.agencyId).length,
    }))
    .filter((s) => s.registrations + s.accesses > 0);
  return { report, subjectId, signals, withheld };
}

/**
 * The family matches of a parent, as the family may see them: worked out from the signals of the
 * agencies it may see (every shielded type, and every registrant exempted from informing for the
 * safety of one of the children, left out), as the index makes them (policy/family.ts).
 */
async function familyMatches(tx: Tx, ctx: Ctx, pseudonym: string): Promise<AccessReport['familyMatches']> {
  const { keys, policy } = ctx.deps;
  const familyId = await subjectIdOf(tx, pseudonym, 'family');
  if (!familyId) return [];
  const rows = await signalsOfFamily(tx, familyId);
  const keyOf = subjectKeys(tx, keys);
  const signals: FamilySignal[] = [];
  for (const { signal } of rows) {
    const { kind, district, informed } = openSignal((await keyOf(signal.subjectId)).dataKey, signal);
    signals.push({ ...signal, kind, district, informed });
  }
  const involved = await agenciesByIds(tx, signals.map((s) => s.agencyId));
  const types = new Map([...involved].map(([id, a]) => [id, { type: a.type as AgencyType }]));
  // Shielded per child: an agency exempted from informing for one child's safety is left out for
  // that child, as that child's own answer leaves it out.
  const shieldedFor = new Map<string, Set<string>>();
  for (const { signal, childPseudonym } of rows) {
    if (!shieldedFor.has(signal.subjectId)) shieldedFor.set(signal.subjectId, new Set((await shieldedAgencies(tx, keys, policy, childPseudonym, types)).keys()));
  }
  const visible = signals.filter((s) => !shieldedFor.get(s.subjectId)!.has(s.agencyId));
  const spans = matchSpans(visible, (active) => familyParties(policy, active, (s) => ({ agencyId: s.agencyId, subjectId: s.subjectId, type: types.get(s.agencyId)!.type })));
  const out: AccessReport['familyMatches'] = [];
  for (const span of spans) {
    const coordinator = await routedCoordinator(tx, ctx, span.lastParties, involved);
    const a = coordinator ? (await agenciesByIds(tx, [coordinator])).get(coordinator)! : null;
    out.push({
      status: span.until === null ? ('open' as const) : ('ended' as const),
      createdAt: span.from,
      endedAt: span.until,
      coordinator: a ? { name: a.name, type: a.type as AgencyType } : null,
    });
  }
  return out;
}

/**
 * The coordinator the policy routes a match of these agencies to, located as every match is
 * (lens.ts `locate`): the same as without the shielded agencies, since nothing of theirs goes in.
 */
async function routedCoordinator(tx: Tx, ctx: Ctx, latestFirst: FamilySignal[], agencies: Awaited<ReturnType<typeof agenciesByIds>>): Promise<string | null> {
  const typeOf = (s: FamilySignal) => agencies.get(s.agencyId)!.type as AgencyType;
  const location = locate(ctx.deps.policy, latestFirst.map((s) => ({ type: typeOf(s), municipality: s.municipality, district: () => s.district })));
  const decision = decide(ctx.deps.policy, {
    parties: latestFirst.map((s) => ({ agencyId: s.agencyId, agencyType: typeOf(s) })),
    location,
    coordinators: await coordinatorCandidates(tx, location.municipality),
  });
  return decision.coordinator?.agencyId ?? null;
}

/**
 * What was left out of an answer and why, for the privacy officer: sealed by the key ring in the
 * audit record's resource, so a copy of the database does not show that an agency was shielded
 * (an informing exemption for someone's safety is itself sensitive). `audit:read` opens it.
 */
export const AUDIT_DETAIL_PREFIX = 'sealed:';
const auditDetailAad = (action: string, pseudonym: string) => `${action}:${pseudonym}`;

function sealDetail(ctx: Ctx, action: string, pseudonym: string, detail: unknown): string {
  const sealed = ctx.deps.keys.sealRecord('audit', new TextEncoder().encode(JSON.stringify(detail)), auditDetailAad(action, pseudonym));
  return AUDIT_DETAIL_PREFIX + Buffer.from(sealed).toString('base64url');
}

/** Opens the sealed detail of an audit record, or null when it has none (or it cannot be opened). */
export function openAuditDetail(keys: Ctx['deps']['keys'], row: { action: string; subject: string | null; resource: string | null }): Record<string, unknown> | null {
  if (!row.subject || !row.resource?.startsWith(AUDIT_DETAIL_PREFIX)) return null;
  try {
    const bytes = keys.openRecord('audit', Buffer.from(row.resource.slice(AUDIT_DETAIL_PREFIX.length), 'base64url'), auditDetailAad(row.action, row.subject));
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    return null;
  }
}

const withheldDetail = (policy: Ctx['deps']['policy'], withheld: Assessed['withheld']) => ({
  policy: { id: policy.id, version: policy.version },
  withheld: withheld.map((w) => ({ agencyId: w.agencyId, rule: w.rule, registrations: w.registrations, accesses: w.accesses })),
});

/**
 * The answer for the family (DESIGN rule 7): which agencies registered, the matches and who
 * coordinates them, and who looked at the data — exactly as it would be had the agencies that the
 * policy shields never acted. What was left out is written, sealed, to the request's audit record.
 */
export async function subjectAccess({ ctx, bsn }: { ctx: Ctx; bsn: string }): Promise<AccessReport> {
  requireScope(ctx, 'subjects:rights');
  const pseudonym = pseudonymOf(ctx, bsn);
  return withTransaction(ctx.deps, async (tx) => {
    const { report, withheld } = await assess(tx, ctx, pseudonym);
    await appendAudit(tx, {
      at: ctx.deps.clock.now().toISOString(),
      agencyId: ctx.actor.agencyId,
      actor: ctx.actor.professional,
      action: 'subject.access_request',
      subject: pseudonym,
      resource: sealDetail(ctx, 'subject.access_request', pseudonym, withheldDetail(ctx.deps.policy, withheld)),
      outcome: 'answered',
      requestId: ctx.requestId,
    });
    return accessReportSchema.parse(report);
  });
}

/**
 * Crypto-shreds everything about the young person (registered in error, or by order); audited.
 * Every agency with an active signal is told first, in the same transaction, by a notice that
 * survives the erasure (it names only the agency's own signal and reference). The answer counts
 * only what the family's access request shows, and is the same whether or not anything was
 * registered, so that it says nothing about agencies the family may not see.
 */
export async function subjectErasure({ ctx, bsn, reason }: { ctx: Ctx; bsn: string; reason: string }): Promise<ErasureResult> {
  requireScope(ctx, 'subjects:rights');
  const pseudonym = pseudonymOf(ctx, bsn);
  return withTransaction(ctx.deps, async (tx) => {
    const { report, subjectId, signals, withheld } = await assess(tx, ctx, pseudonym);
    const notified: string[] = [];
    let removed = { signals: 0, notices: 0, matches: 0 };
    if (subjectId) {
      notified.push(...(await tellRegistrants(tx, ctx, subjectId, pseudonym, signals)));
      // Their family matches hold their registrants' details: they end and go, and the remaining
      // children's signals make a new one where they still match.
      const families = await forgetInFamilies(tx, ctx.deps, subjectId, ctx.requestId);
      removed = await eraseSubject(tx, subjectId);
      await reconcileFamilies(tx, ctx.deps, families, ctx.requestId);
    }
    // A parent's request erases their link to every registration that named them, and their family
    // matches with it; the parties of a live one are told it ended, by notices that outlive it.
    const familyId = await subjectIdOf(tx, pseudonym, 'family');
    if (familyId) {
      await endBeforeErasure(tx, ctx.deps, await loadSubjectKey(tx, ctx.deps.keys, familyId), ctx.requestId);
      await unlinkFamily(tx, familyId);
      const family = await eraseSubject(tx, familyId);
      removed = { ...removed, matches: removed.matches + family.matches, notices: removed.notices + family.notices };
    }
    await appendAudit(tx, {
      at: ctx.deps.clock.now().toISOString(),
      agencyId: ctx.actor.agencyId,
      actor: ctx.actor.professional,
      action: 'subject.erase',
      subject: pseudonym,
      resource: sealDetail(ctx, 'subject.erase', pseudonym, { ...withheldDetail(ctx.deps.policy, withheld), removed, notified }),
      outcome: reason,
      requestId: ctx.requestId,
    });
    return { erased: true, signals: report.registrations.length, matches: report.matches.length + report.familyMatches.length };
  });
}

/** Writes a subject.erased notice to each enabled agency with an active signal; returns who was told. */
async function tellRegistrants(tx: Tx, ctx: Ctx, subjectId: string, pseudonym: string, signals: FamilySignal[]): Promise<string[]> {
  const active = signals.filter((s) => s.status === 'active');
  if (active.length === 0) return [];
  const { dataKey } = await loadSubjectKey(tx, ctx.deps.keys, subjectId);
  const agencies = await agenciesByIds(tx, active.map((s) => s.agencyId));
  const now = ctx.deps.clock.now();
  const told: string[] = [];
  for (const signal of active) {
    if (agencies.get(signal.agencyId)?.status !== 'active') continue;
    const body: NoticeBody = noticeBodySchema.parse({
      id: newId('ntc', now, signal.agencyId),
      type: 'subject.erased',
      createdAt: now.toISOString(),
      matchId: null,
      signalId: signal.id,
      // Read now: it is sealed under the data key that the erasure destroys.
      reference: openSignal(dataKey, signal).reference,
      parties: [],
      coordinator: null,
      caseTable: null,
      policy: { id: ctx.deps.policy.id, version: ctx.deps.policy.version, rules: [ERASURE_NOTICE_RULE] },
    } satisfies NoticeBody);
    await insertSubjectlessNotice(tx, ctx.deps.keys, { body, agencyId: signal.agencyId });
    await appendAudit(tx, {
      at: body.createdAt,
      agencyId: signal.agencyId,
      actor: null,
      action: 'notice.subject.erased',
      subject: pseudonym,
      resource: body.id,
      outcome: 'disclosed',
      requestId: ctx.requestId,
    });
    told.push(signal.agencyId);
  }
  return told;
}
