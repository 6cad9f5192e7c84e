import { registerSignal } from '../../src/app/register-signal.ts';
import { agencyActor, type Ctx } from '../../src/app/context.ts';
import { withdrawSignal } from '../../src/app/update-signal.ts';
import { listNotices } from '../../src/app/notices.ts';
import type { NoticeView } from '../../src/app/notice-schemas.ts';
import { allowedScopes } from '../../src/policy/grants.ts';
import type { AgencyType } from '../../src/policy/types.ts';
import { createHarness, type Harness, signalBody, type TestAgency, validBsn } from './harness.ts';

/** The BSN of parent "a", "b", …: valid, and apart from every young person's. */
export const parentBsn = (label: string) => validBsn(900 + label.charCodeAt(0) - 96);

/** Labels used in scenarios, and the agency type behind each. */
export const CAST: Record<string, { type: AgencyType; districts?: string[]; municipality?: string }> = {
  school: { type: 'school' },
  school2: { type: 'school' },
  gp: { type: 'gp' },
  vt: { type: 'veilig_thuis' },
  wij: { type: 'wij', districts: ['selwerd'] },
  yc: { type: 'youth_care' },
  gi: { type: 'gi' },
  jgz: { type: 'jgz' },
  muni: { type: 'municipality' },
  // Another municipality, for families that move.
  wij2: { type: 'wij', districts: ['centrum'], municipality: '0017' },
  muni2: { type: 'municipality', municipality: '0017' },
};

/**
 * A region with one agency per label, driven through the use cases (no HTTP), so that scenario
 * tables read as "who registers, who withdraws, who is told what".
 */
export class World {
  readonly agencies = new Map<string, TestAgency>();
  readonly label = new Map<string, string>();
  private seen = new Map<string, number>();
  private signalIds = new Map<string, string>();

  private constructor(readonly h: Harness) {}

  static async create(policy = 'groningen', labels = Object.keys(CAST)): Promise<World> {
    const w = new World(await createHarness({ policy }));
    for (const l of labels) {
      const { type, districts, municipality } = CAST[l]!;
      const a = await w.h.agency(type, { name: l, ...(districts ? { districts } : {}), ...(municipality ? { municipality } : {}) });
      w.agencies.set(l, a);
      w.label.set(a.id, l);
    }
    return w;
  }

  ctx(label: string): Ctx {
    const a = this.agencies.get(label)!;
    const type = CAST[label]!.type;
    return {
      deps: this.h.deps,
      actor: agencyActor({ agencyId: a.id, agencyType: type, scopes: new Set(allowedScopes(this.h.policy, type, ['notices:read'])), professional: null }),
      requestId: null,
    };
  }

  async register(label: string, subject = 1, extra: Record<string, unknown> = {}): Promise<void> {
    const input = { ...signalBody(validBsn(subject), { professional: { name: `prof ${label}`, email: `${label}@example.nl` }, ...extra }) };
    const res = await registerSignal({ ctx: this.ctx(label), input: input as never });
    this.signalIds.set(`${label}/${subject}`, res.signal.id);
  }

  async withdraw(label: string, subject = 1): Promise<void> {
    await withdrawSignal({ ctx: this.ctx(label), id: this.signalIds.get(`${label}/${subject}`)!, input: { reason: 'care_ended' } });
  }

  /**
   * Applies "+gp" (register) or "-gp" (withdraw); "#2" names another subject, "@none" registers
   * without a district, "@0017" in another municipality, "^a" (up to two) names parent a.
   */
  async step(step: string): Promise<void> {
    const m = /^([+-])(\w+)(?:#(\d+))?(?:@(\w+))?((?:\^[a-z])*)$/.exec(step);
    if (!m) throw new Error(`bad step ${step}`);
    const [, op, label, subject = '1', where, parents = ''] = m;
    if (op === '-') return this.withdraw(label!, Number(subject));
    const extra: Record<string, unknown> = where === 'none' ? { district: undefined } : where ? { municipality: where, district: 'centrum' } : {};
    if (parents) extra.parents = parents.split('^').slice(1).map((p) => ({ bsn: parentBsn(p) }));
    await this.register(label!, Number(subject), extra);
  }

  /** The subject number of an agency's signal, from its id. */
  subjectOfSignal(signalId: string): string | undefined {
    for (const [key, id] of this.signalIds) if (id === signalId) return key.split('/')[1];
    return undefined;
  }

  /** All notices of an agency so far. */
  async inbox(label: string): Promise<NoticeView[]> {
    const out: NoticeView[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await listNotices({ ctx: this.ctx(label), query: { limit: 200, ...(after ? { after } : {}) } });
      out.push(...page.items);
      if (!page.next) return out;
      after = page.next;
    }
  }

  /** Notices an agency received since the last call, as "type party:view,…" strings. */
  async fresh(label: string): Promise<string[]> {
    const all = await this.inbox(label);
    const from = this.seen.get(label) ?? 0;
    this.seen.set(label, all.length);
    return all.slice(from).map((n) => this.describe(n));
  }

  describe(n: NoticeView): string {
    const parties = n.parties
      .map((p) => (p.view === 'contact' ? `${this.label.get(p.agency.id)}:contact` : `${p.agencyType}:type`))
      .sort();
    // A family match notice names the recipient's own signal: which of its children it concerns.
    const own = n.type.startsWith('family_match.') && n.signalId ? ` own#${this.subjectOfSignal(n.signalId)}` : '';
    return `${n.type} ${parties.join(',')}${own}`.trim().replace(/ {2,}/g, ' ');
  }
}
