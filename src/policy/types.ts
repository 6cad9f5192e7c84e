import { z } from 'zod';

export const AGENCY_TYPES = [
  'school', 'gp', 'wij', 'veilig_thuis', 'jgz', 'youth_care', 'gi', 'police', 'municipality', 'operator',
] as const;
export type AgencyType = (typeof AGENCY_TYPES)[number];

export const SCOPES = [
  'signals:write', 'signals:read', 'notices:read', 'matches:coordinate',
  'subjects:rights', 'audit:read', 'stats:read', 'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

export const SIGNAL_KINDS = ['involvement', 'concern'] as const;
export type SignalKind = (typeof SIGNAL_KINDS)[number];

export const VIEWS = ['contact', 'type', 'hidden'] as const;
export type View = (typeof VIEWS)[number];

export const EXEMPTIONS = ['child_safety', 'others_safety', 'unreachable'] as const;

/** The ways a coordinator can be found, tried in the order the policy lists them. */
export const ROUTES = ['district_wij', 'municipality'] as const;
export type Route = (typeof ROUTES)[number];

const ruleId = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]*$/, 'rule ids are lower-case words joined by . _ or -')
  .meta({ description: 'Names this rule in every decision it takes part in.' });

const agencyTypeRules = z
  .strictObject({
    rule: ruleId,
    register: z.array(z.enum(SIGNAL_KINDS)).default([]).meta({ description: 'Kinds of signal this type may register (rule 3).' }),
    scopes: z.array(z.enum(SCOPES)).default([]).meta({ description: 'Scopes every agency of this type may hold.' }),
  })
  .meta({ id: 'AgencyTypeRules' });

/** How a viewer sees each other party type; `*` covers the types not named. */
const seeMap = z
  .partialRecord(z.union([z.literal('*'), z.enum(AGENCY_TYPES)]), z.enum(VIEWS))
  .refine((m) => m['*'] !== undefined, { message: 'name "*": how every party type not listed is shown' })
  .meta({ description: 'Party type (or "*") → contact, type or hidden.' });

const viewerRules = z.strictObject({ rule: ruleId, see: seeMap }).meta({ id: 'ViewerRules' });

const days = z.number().int().min(1).max(3650);

const legalGround = z
  .strictObject({
    title: z.string().min(1).meta({ description: 'The instrument and, where it has them, its articles, as it is cited.' }),
    reference: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Where its text can be found: an official citation, or (for a covenant) who keeps the signed copy and its reference.' }),
    text: z.string().min(1).optional().meta({ description: 'What this ground lets the index do, in plain words.' }),
  })
  .meta({ id: 'LegalGround' });

/**
 * Why the index may exist and process what it does. The product states no legal basis of its own:
 * whatever it shows (policy explain, the family's answer, the API description) comes from here, so
 * a region whose covenant stands alone (should the national duty be repealed) names only that.
 */
export const legalBasisSchema = z
  .strictObject(
    {
      summary: z.string().min(1).meta({ description: 'What the index may do and why, for the young person and their parents (in Dutch).' }),
      grounds: z.array(legalGround).min(1).meta({ description: 'The covenant, laws and articles the index relies on; nothing else is claimed.' }),
    },
    {
      error: (issue) =>
        issue.input === undefined ? 'required: the legal basis the index relies on (summary and grounds, such as the regional covenant)' : undefined,
    },
  )
  .meta({ id: 'LegalBasis' });
export type LegalBasis = z.infer<typeof legalBasisSchema>;

/** The policy file format. Every rule carries an id, so a decision can name what made it. */
export const policySchema = z
  .strictObject({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/),
    name: z.string().min(1),
    legalBasis: legalBasisSchema,
    subjects: z.strictObject({
      rule: ruleId,
      /** Rule 2: only subjects under this age can be registered (Jeugdwet: under 23). */
      maxAgeYears: z.number().int().min(1).max(30),
    }),
    retention: z.strictObject({
      rule: ruleId,
      activeMonths: z.number().int().min(1),
      archiveMonths: z.number().int().min(0),
      expiringNoticeDays: days.default(30),
    }),
    agencyTypes: z.partialRecord(z.enum(AGENCY_TYPES), agencyTypeRules),
    coordination: z
      .strictObject({
        rule: ruleId,
        route: z.array(z.enum(ROUTES)).min(1).meta({ description: 'Where the coordinator comes from, first match wins.' }),
        claimDays: z
          .union([days, z.strictObject({ involvement: days, concern: days })])
          .meta({ description: 'Days the coordinator has to claim a match, or per kind: a match that holds a concern may get a shorter deadline.' }),
        caseTableDays: days,
        turning18NoticeDays: days,
      })
      .meta({ id: 'Coordination' }),
    informing: z
      .strictObject({ rule: ruleId, exemptions: z.array(z.enum(EXEMPTIONS)), overdueDays: days })
      .meta({ id: 'Informing' }),
    disclosure: z
      .strictObject({
        default: viewerRules.meta({ description: 'For viewer types not listed under viewers.' }),
        coordinator: viewerRules.meta({ description: 'What the coordinator of a match sees.' }),
        viewers: z.partialRecord(z.enum(AGENCY_TYPES), viewerRules),
      })
      .meta({ id: 'Disclosure' }),
    shielding: z
      .array(
        z.strictObject({
          rule: ruleId,
          types: z.array(z.enum(AGENCY_TYPES)).min(1),
        }),
      )
      .default([])
      .meta({ description: 'Party types withheld from subject access answers, always: their registrations, accesses, and matches that exist only through them (rule 7).' }),
    statistics: z.strictObject({ rule: ruleId, minCell: z.number().int().min(1) }),
    familyMatching: z
      .strictObject({
        rule: ruleId,
        enabled: z.boolean(),
        types: z.array(z.enum(AGENCY_TYPES)).min(1).meta({ description: 'Agency types whose signals take part in family matches.' }),
      })
      .optional()
      .meta({
        id: 'FamilyMatching',
        description: 'Family matches: two agencies involved with different children of the same parent. Off when absent. What each party sees follows the disclosure rules, as for a child match.',
      }),
  })
  .superRefine((p, ctx) => {
    const ids = new Map<string, string>();
    const note = (id: string, where: string) => {
      const seen = ids.get(id);
      if (seen) ctx.addIssue({ code: 'custom', message: `rule id "${id}" is used at ${seen} and ${where}` });
      ids.set(id, where);
    };
    note(p.subjects.rule, 'subjects');
    note(p.retention.rule, 'retention');
    for (const [type, rules] of Object.entries(p.agencyTypes)) note(rules!.rule, `agencyTypes.${type}`);
    note(p.coordination.rule, 'coordination');
    note(p.informing.rule, 'informing');
    note(p.disclosure.default.rule, 'disclosure.default');
    note(p.disclosure.coordinator.rule, 'disclosure.coordinator');
    for (const [type, rules] of Object.entries(p.disclosure.viewers)) note(rules!.rule, `disclosure.viewers.${type}`);
    p.shielding.forEach((s, i) => note(s.rule, `shielding.${i}`));
    note(p.statistics.rule, 'statistics');
    if (p.familyMatching) note(p.familyMatching.rule, 'familyMatching');
    // The coordinator convenes everyone: a match it works on must not hold a party it cannot see.
    const coordinatorSees = p.disclosure.coordinator.see;
    for (const type of AGENCY_TYPES) {
      if ((coordinatorSees[type] ?? coordinatorSees['*']) === 'hidden') {
        ctx.addIssue({ code: 'custom', path: ['disclosure', 'coordinator', 'see'], message: `the coordinator must see every party type (${type} is hidden)` });
      }
    }
  })
  .meta({ id: 'Policy', title: 'Betrokken policy file' });

export type PolicyDocument = z.infer<typeof policySchema>;

/** The claim deadline of a match, in days: the concern deadline once any of its signals is a concern. */
export function claimDaysOf(policy: PolicyDocument, kinds: Iterable<SignalKind>): number {
  const days = policy.coordination.claimDays;
  if (typeof days === 'number') return days;
  for (const kind of kinds) if (kind === 'concern') return days.concern;
  return days.involvement;
}

/** Whether family matching is on, and for which agency types. */
export function familyTypes(policy: PolicyDocument): ReadonlySet<AgencyType> {
  return new Set(policy.familyMatching?.enabled ? policy.familyMatching.types : []);
}

/** A loaded policy: the document plus its version, a hash of its content. */
export interface Policy extends PolicyDocument {
  version: string;
}
