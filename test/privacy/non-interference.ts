import fc from 'fast-check';
import { agencyActor, type Ctx } from '../../src/app/context.ts';
import { closeMatch, claimMatch, conveneCaseTable, recordCaseTableOutcome } from '../../src/app/coordination.ts';
import { DomainError } from '../../src/app/errors.ts';
import { liveMatchOf } from '../../src/app/matching.ts';
import { listNotices } from '../../src/app/notices.ts';
import { subjectAccess } from '../../src/app/subject-rights.ts';
import { registerSignal } from '../../src/app/register-signal.ts';
import { withdrawSignal } from '../../src/app/update-signal.ts';
import type { KeyRing } from '../../src/crypto/key-ring.ts';
import { runJobs } from '../../src/jobs/index.ts';
import { allowedScopes } from '../../src/policy/grants.ts';
import { partyLens } from '../../src/policy/lens.ts';
import { type AgencyType, familyTypes, type Policy } from '../../src/policy/types.ts';
import { caseTablesOfMatch } from '../../src/store/matches.ts';
import { pgStoreOf } from '../../src/store/pg-store.ts';
import { subjectIdOf } from '../../src/store/subjects.ts';
import { createHarness, type Harness, signalBody, validBsn } from '../support/harness.ts';
import { keepForReset } from '../support/pg-reset.ts';

/**
 * The non-interference property (DESIGN, privacy invariants): every history is run as it is and
 * again without the actions of the parties hidden from a viewer, and everything the viewer
 * observes — its notices (the body an inbox and a webhook both carry) in order, and the answers to
 * its own requests, status codes included — must be the same, up to the names of ids.
 */

/** The region: registrants of every type, two WIJ teams (two districts) and the municipality. */
export const CAST: Record<string, { type: AgencyType; districts?: string[] }> = {
  school: { type: 'school' },
  school2: { type: 'school' },
  gp: { type: 'gp' },
  vt: { type: 'veilig_thuis' },
  gi: { type: 'gi' },
  jgz: { type: 'jgz' },
  yc: { type: 'youth_care' },
  wijA: { type: 'wij', districts: ['selwerd'] },
  wijB: { type: 'wij', districts: ['paddepoel'] },
  muni: { type: 'municipality' },
};
const REGISTRANTS = ['school', 'school2', 'gp', 'vt', 'gi', 'jgz', 'yc', 'wijB'] as const;
/** Young people 1 and 2, siblings when a registration names their parent; 0 is that parent's family. */
const CHILDREN = [1, 2] as const;
const SUBJECTS = [0, ...CHILDREN] as const;
const PARENT = validBsn(900);
const DISTRICTS = ['selwerd', 'paddepoel'] as const;

export type Action =
  | { op: 'register'; who: string; subject: number; district: string; exempt: boolean; parent: boolean }
  | { op: 'withdraw'; who: string; subject: number }
  | { op: 'claim'; subject: number; byMunicipality: boolean }
  | { op: 'convene'; subject: number }
  | { op: 'outcome'; subject: number }
  | { op: 'close'; subject: number }
  | { op: 'jobs'; days: number }
  | { op: 'access'; subject: number };

const subject = fc.constantFrom(...SUBJECTS);
const child = fc.constantFrom(...CHILDREN);
export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('register' as const), who: fc.constantFrom(...REGISTRANTS), subject: child, district: fc.constantFrom(...DISTRICTS), exempt: fc.boolean(), parent: fc.nat(3).map((n) => n > 0),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('withdraw' as const), who: fc.constantFrom(...REGISTRANTS), subject: child }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('claim' as const), subject, byMunicipality: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('convene' as const), subject }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('outcome' as const), subject }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('close' as const), subject }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('jobs' as const), days: fc.constantFrom(1, 4, 7, 30) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('access' as const), subject }) },
);
export const historyArb = fc.array(actionArb, { minLength: 4, maxLength: 24 });

/** The young person and their parents, who see what the answer to an access request shows. */
export const FAMILY = 'family';
/** Not an observation: which agency registered for which young person with a safety exemption. */
const EXEMPTED = 'exempted';

/** What each agency (and the family) observed, in order. */
export type Observations = Map<string, unknown[]>;

/**
 * A migrated database with the cast's agencies, a fresh copy of it for every run. On SQLite a run
 * opens a copy of the serialized image (milliseconds). On PostgreSQL the one database is put back
 * to the seeded rows before every run (test/support/pg-reset.ts): as faithful as a copy of the
 * database, and several times quicker than making one and connecting to it.
 */
export interface Region {
  policyName: string;
  keys: KeyRing;
  ids: Map<string, string>;
  /** A harness on the region as it was seeded, and what to call when its run is over. */
  fresh(): Promise<{ h: Harness; done(): Promise<void> }>;
}

export async function createRegion(policyName: string, keys: KeyRing): Promise<Region> {
  const seeded = await createHarness({ policy: policyName, keys });
  const ids = new Map<string, string>();
  for (const [label, { type, districts }] of Object.entries(CAST)) {
    ids.set(label, (await seeded.agency(type, { name: label, ...(districts ? { districts } : {}) })).id);
  }
  const pgs = pgStoreOf(seeded.store);
  if (pgs) {
    const reset = await keepForReset(pgs.pool);
    // The database stays open to the end of the test file (test/support/postgres-setup.ts drops it).
    const fresh = async () => {
      await reset();
      return { h: await createHarness({ policy: policyName, keys, store: seeded.store }), done: async () => {} };
    };
    return { policyName, keys, ids, fresh };
  }
  const image = seeded.db.$client.serialize();
  await seeded.store.close();
  const fresh = async () => {
    const h = await createHarness({ policy: policyName, keys, dbImage: image });
    return { h, done: () => h.store.close() };
  };
  return { policyName, keys, ids, fresh };
}

/** Runs a history on a fresh copy of the region and records what every agency observed. */
export async function runHistory(region: Region, history: Action[]): Promise<Observations> {
  const { h, done } = await region.fresh();
  const ids = region.ids;
  const labels = new Map([...ids].map(([label, id]) => [id, label]));
  try {
    return await observe(h, ids, labels, history);
  } finally {
    await done();
  }
}

async function observe(h: Harness, ids: Map<string, string>, labels: Map<string, string>, history: Action[]): Promise<Observations> {
  const seen: Observations = new Map([...ids.keys(), FAMILY, EXEMPTED].map((l) => [l, []]));
  const ctx = (label: string): Ctx => {
    const type = CAST[label]!.type;
    return { deps: h.deps, actor: agencyActor({ agencyId: ids.get(label)!, agencyType: type, scopes: new Set(allowedScopes(h.policy, type, ['notices:read'])), professional: null }), requestId: null };
  };
  const answer = async (label: string, fn: () => Promise<unknown>) => {
    let out: unknown;
    try {
      out = { ok: await fn() };
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      out = { error: err.kind, code: err.code };
    }
    seen.get(label)!.push(out);
  };
  const attempt = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
    }
  };
  const signalIds = new Map<string, string>();
  const bsnOf = (s: number) => (s === 0 ? PARENT : validBsn(s));
  const liveMatch = async (s: number) => {
    const id = await subjectIdOf(h.store.reader, h.keys.pseudonymize(bsnOf(s)), s === 0 ? 'family' : 'person');
    return id ? await liveMatchOf(h.store.reader, id) : undefined;
  };

  for (const a of history) {
    switch (a.op) {
      case 'register':
        await answer(a.who, async () => {
          const informed = a.exempt ? { status: 'exempt', exemption: 'child_safety' } : { status: 'informed' };
          // Where the policy has family matching, a registration may name the siblings' parent.
          const parents = a.parent && familyTypes(h.policy).has(CAST[a.who]!.type) ? { parents: [{ bsn: PARENT }] } : {};
          const input = { ...signalBody(validBsn(a.subject), { district: a.district, informed, professional: { name: `prof ${a.who}`, email: `${a.who}@example.nl` }, ...parents }) };
          const res = await registerSignal({ ctx: ctx(a.who), input: input as never });
          signalIds.set(`${a.who}/${a.subject}`, res.signal.id);
          if (a.exempt && res.outcome === 'created') seen.get(EXEMPTED)!.push(`${a.who}/${a.subject}`);
          return { outcome: res.outcome, signal: res.signal };
        });
        break;
      case 'withdraw': {
        const id = signalIds.get(`${a.who}/${a.subject}`);
        if (id) await answer(a.who, () => withdrawSignal({ ctx: ctx(a.who), id, input: { reason: 'care_ended' } }));
        break;
      }
      case 'claim': {
        const m = await liveMatch(a.subject);
        const by = m && (a.byMunicipality ? m.escalatedTo : m.coordinatorId);
        if (m && by) await attempt(() => claimMatch({ ctx: ctx(labels.get(by)!), id: m.id, input: { coordinator: { name: `coordinator ${labels.get(by)}`, email: 'c@example.nl' } } }));
        break;
      }
      case 'convene': {
        const m = await liveMatch(a.subject);
        if (m?.coordinatorId) {
          const at = new Date(h.clock.now().getTime() + 7 * 86_400_000).toISOString();
          await attempt(() => conveneCaseTable({ ctx: ctx(labels.get(m.coordinatorId!)!), id: m.id, input: { scheduledFor: at } }));
        }
        break;
      }
      case 'outcome': {
        const m = await liveMatch(a.subject);
        const table = m && (await caseTablesOfMatch(h.store.reader, m.id)).filter((t) => t.outcomeAt === null).at(-1);
        if (m?.coordinatorId && table) {
          const input = { held: true, attendedBy: [...table.invited, m.coordinatorId], ...(table.invited[0] ? { leadAgencyId: table.invited[0] } : {}) };
          await attempt(() => recordCaseTableOutcome({ ctx: ctx(labels.get(m.coordinatorId!)!), id: table.id, input }));
        }
        break;
      }
      case 'close': {
        const m = await liveMatch(a.subject);
        if (m?.coordinatorId) await attempt(() => closeMatch({ ctx: ctx(labels.get(m.coordinatorId!)!), id: m.id, input: { reason: 'resolved' } }));
        break;
      }
      case 'jobs':
        h.clock.advanceDays(a.days);
        await runJobs(h.deps);
        break;
      case 'access':
        // The answer to the family, through the municipality's privacy desk.
        await answer(FAMILY, () => subjectAccess({ ctx: ctx('muni'), bsn: bsnOf(a.subject) }));
        break;
    }
  }
  for (const label of ids.keys()) {
    if (!allowedScopes(h.policy, CAST[label]!.type, ['notices:read']).includes('notices:read')) continue;
    const inbox = (await listNotices({ ctx: ctx(label), query: { limit: 200 } })).items;
    seen.get(label)!.push(...inbox.map((n) => ({ notice: n })));
  }
  return new Map([...seen].map(([l, obs]) => [l, canonical(obs, labels)]));
}

/** Ids are named by the order they first appear in (they are random); agency ids by their label. */
function canonical(observed: unknown[], labels: Map<string, string>): unknown[] {
  const names = new Map<string, string>();
  const rename = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (labels.has(v)) return `agency:${labels.get(v)}`;
      const m = /^(ntc|mat|cst|sig)_[0-9a-z]+$/.exec(v);
      if (m) {
        if (!names.has(v)) names.set(v, `${m[1]}#${[...names.keys()].filter((k) => k.startsWith(m[1]!)).length + 1}`);
        return names.get(v);
      }
      return v;
    }
    if (Array.isArray(v)) return v.map(rename);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rename(x)]));
    return v;
  };
  return observed.map(rename);
}

/**
 * The distinct lenses of the cast's registrants: each names who is hidden from whom. WIJ teams
 * and the municipality coordinate, and a coordinator sees every party (the policy check holds
 * that), so nothing is hidden from them to compare.
 */
export function viewerGroups(policy: Policy, lensOf = partyLens): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const [label, { type }] of Object.entries(CAST)) {
    if (type === 'wij' || type === 'municipality') continue;
    const lens = lensOf(policy, type);
    if (lens === '') continue;
    groups.set(lens, [...(groups.get(lens) ?? []), label]);
  }
  return groups;
}

/** The history without the actions of agencies whose type the lens leaves out. */
export function without(history: Action[], lens: string): Action[] {
  const hidden = new Set(lens.split(','));
  return history.filter((a) => !('who' in a) || !hidden.has(CAST[a.who]!.type));
}

/**
 * Checks one history: for each lens, the viewers looking through it observe the same with and
 * without the hidden parties. Answers the first difference, or null.
 */
export async function firstDifference(policy: Policy, region: Region, given: Action[], lensOf = partyLens): Promise<string | null> {
  // Every history ends with the family asking about each young person.
  const history: Action[] = [...given, ...SUBJECTS.map((subject) => ({ op: 'access' as const, subject }))];
  const full = await runHistory(region, history);
  for (const [lens, viewers] of viewerGroups(policy, lensOf)) {
    const reduced = await runHistory(region, without(history, lens));
    for (const viewer of viewers) {
      const a = JSON.stringify(full.get(viewer));
      const b = JSON.stringify(reduced.get(viewer));
      if (a !== b) return `${viewer} (hidden: ${lens}) observed\n  with:    ${a}\n  without: ${b}`;
    }
  }
  // The family: the policy's shielded types, and every agency that registered for a young person
  // with an informing exemption for someone's safety, are hidden from the answer.
  const shielded = new Set(policy.shielding.flatMap((s) => s.types));
  const exempted = new Set(full.get(EXEMPTED) as string[]);
  const forFamily = history.filter((a) => !('who' in a) || (!shielded.has(CAST[a.who]!.type) && !exempted.has(`${a.who}/${a.subject}`)));
  // An exemption shields from when it is recorded: an answer given before it stands. So where there
  // is one, the family's last answers are compared, else every answer.
  const answers = (o: Observations) => JSON.stringify(exempted.size > 0 ? o.get(FAMILY)!.slice(-SUBJECTS.length) : o.get(FAMILY));
  const familyWithout = await runHistory(region, forFamily);
  if (answers(full) !== answers(familyWithout)) return `the family observed\n  with:    ${answers(full)}\n  without: ${answers(familyWithout)}`;
  return null;
}
