import { z } from 'zod';
import { AGENCY_TYPES, SIGNAL_KINDS } from '../policy/types.ts';
import { professionalSchema } from './signal-schemas.ts';

/** Matches and case tables (API.md): what a coordinator sends and sees. No field takes prose. */

const agencyRef = z.object({ id: z.string(), name: z.string(), type: z.enum(AGENCY_TYPES) });
const agencyId = z.string().regex(/^agy_[0-9a-z]{26}$/, 'an agency id');

export const MATCH_STATUSES = ['open', 'claimed', 'escalated', 'closed', 'dissolved'] as const;
export const CLOSE_REASONS = ['resolved', 'moved', 'no_longer_involved', 'other'] as const;

export const claimMatchSchema = z.strictObject({ coordinator: professionalSchema }).meta({ id: 'ClaimMatch' });
export type ClaimMatchInput = z.infer<typeof claimMatchSchema>;

export const conveneCaseTableSchema = z
  .strictObject({
    scheduledFor: z.iso.datetime({ offset: true }),
    invite: z.array(agencyId).max(50).optional().meta({ description: 'Agencies to invite; default: every party told of the match.' }),
  })
  .meta({ id: 'ConveneCaseTable' });
export type ConveneCaseTableInput = z.infer<typeof conveneCaseTableSchema>;

export const caseTableOutcomeSchema = z
  .strictObject({
    held: z.boolean(),
    attendedBy: z.array(agencyId).max(50),
    leadAgencyId: agencyId.optional(),
    nextReviewOn: z.iso.date().optional(),
  })
  .meta({ id: 'CaseTableOutcome' });
export type CaseTableOutcomeInput = z.infer<typeof caseTableOutcomeSchema>;

export const closeMatchSchema = z.strictObject({ reason: z.enum(CLOSE_REASONS) }).meta({ id: 'CloseMatch' });
export type CloseMatchInput = z.infer<typeof closeMatchSchema>;

export const caseTableSchema = z
  .object({
    id: z.string(),
    scheduledFor: z.iso.datetime(),
    invited: z.array(z.string()),
    createdAt: z.iso.datetime(),
    held: z.boolean().nullable(),
    attendedBy: z.array(z.string()).nullable(),
    leadAgencyId: z.string().nullable(),
    nextReviewOn: z.iso.date().nullable(),
  })
  .meta({ id: 'CaseTable' });
export type CaseTableView = z.infer<typeof caseTableSchema>;

export const matchSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['child', 'family']).meta({ description: 'child: agencies involved with one young person; family: with different children of one parent.' }),
    status: z.enum(MATCH_STATUSES),
    municipality: z.string(),
    district: z.string().nullable(),
    createdAt: z.iso.datetime(),
    claimBy: z.iso.datetime().meta({ description: 'The match is escalated if nobody claims it by then.' }),
    claimedAt: z.iso.datetime().nullable(),
    endedAt: z.iso.datetime().nullable(),
    closeReason: z.enum(CLOSE_REASONS).nullable(),
    coordinator: z.object({ agency: agencyRef, contact: professionalSchema.nullable() }).nullable(),
    escalatedTo: agencyRef.nullable(),
    parties: z.array(
      z.object({
        agency: agencyRef,
        kind: z.enum(SIGNAL_KINDS).meta({ description: 'involvement: the agency provides care; concern: it is worried and does not.' }),
        contact: professionalSchema,
        since: z.iso.datetime(),
      }),
    ),
    related: z.array(z.object({ id: z.string(), kind: z.enum(['child', 'family']), status: z.enum(MATCH_STATUSES), coordinator: agencyRef.nullable() })).meta({
      description: 'The live family matches of this young person\'s parents (for a child match), or the live child matches of this family\'s children (for a family match): separate matches, for one case table where that helps.',
    }),
    awaitingIntroduction: z.array(agencyRef).meta({
      description: 'Parties told of the match since it was claimed, who do not yet know whom to call: claim the match again to introduce yourself.',
    }),
    caseTables: z.array(caseTableSchema),
    timeline: z.array(z.object({ at: z.iso.datetime(), type: z.string(), agencyId: z.string().nullable() })),
  })
  .meta({ id: 'Match' });
export type MatchView = z.infer<typeof matchSchema>;

export const matchListSchema = z.object({ items: z.array(matchSchema), next: z.string().nullable() }).meta({ id: 'MatchList' });

export const listMatchesQuerySchema = z.strictObject({
  status: z.enum(MATCH_STATUSES).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
});
export type ListMatchesQuery = z.infer<typeof listMatchesQuerySchema>;
