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

const ruleId = z.string().regex(/^[a-z][a-z0-9_.-]*$/, 'rule ids are lower-case words joined by . _ or -');

const agencyTypeRules = z.strictObject({
  /** Rule id that grants what follows; named in decisions. */
  rule: ruleId,
  register: z.array(z.enum(SIGNAL_KINDS)).default([]),
  scopes: z.array(z.enum(SCOPES)).default([]),
});

/** The policy file format. Every rule carries an id, so a decision can name what made it. */
export const policySchema = z
  .strictObject({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/),
    name: z.string().min(1),
    subjects: z.strictObject({
      rule: ruleId,
      /** Rule 2: only subjects under this age can be registered (Jeugdwet: under 23). */
      maxAgeYears: z.number().int().min(1).max(30),
    }),
    retention: z.strictObject({
      rule: ruleId,
      activeMonths: z.number().int().min(1),
      archiveMonths: z.number().int().min(0),
    }),
    agencyTypes: z.partialRecord(z.enum(AGENCY_TYPES), agencyTypeRules),
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
  });

export type PolicyDocument = z.infer<typeof policySchema>;

/** A loaded policy: the document plus its version, a hash of its content. */
export interface Policy extends PolicyDocument {
  version: string;
}
