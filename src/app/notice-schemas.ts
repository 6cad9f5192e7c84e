import { z } from 'zod';
import { AGENCY_TYPES, SIGNAL_KINDS } from '../policy/types.ts';
import { professionalSchema } from './signal-schemas.ts';

/** Notice shapes (API.md, notices): the inbox, the webhook body and the OpenAPI document. */

export const NOTICE_TYPES = [
  'match.created', 'match.party_added', 'match.party_left', 'match.coordinator_assigned', 'match.claimed',
  'match.escalated', 'match.transferred', 'match.closed', 'case_table.convened', 'case_table.outcome',
  'signal.expiring', 'signal.informing_overdue', 'subject.turning_18', 'match.case_table_due',
  // The young person's data was erased at the family's request; the recipient's own signal with it.
  'subject.erased',
  // Family matches (different children of one parent): as match.*, naming the recipient's own signal.
  'family_match.created', 'family_match.party_added', 'family_match.party_left', 'family_match.coordinator_assigned',
  'family_match.claimed', 'family_match.escalated', 'family_match.transferred', 'family_match.closed', 'family_match.case_table_due',
] as const;
export type NoticeType = (typeof NOTICE_TYPES)[number];

const agencyRef = z.object({ id: z.string(), name: z.string(), type: z.enum(AGENCY_TYPES) }).meta({ id: 'AgencyRef' });
export type AgencyRef = z.infer<typeof agencyRef>;

export const partySchema = z
  .discriminatedUnion('view', [
    z.object({
      view: z.literal('contact'),
      agency: agencyRef,
      kind: z.enum(SIGNAL_KINDS).meta({ description: 'involvement: the agency provides care ("is betrokken"); concern: it is worried ("maakt zich zorgen").' }),
      contact: professionalSchema,
      since: z.iso.datetime(),
    }),
    z.object({ view: z.literal('type'), agencyType: z.enum(AGENCY_TYPES) }),
  ])
  .meta({ id: 'Party', description: 'Another involved agency, as the policy lets the recipient see it.' });
export type PartyEntry = z.infer<typeof partySchema>;

export const noticeSchema = z
  .object({
    id: z.string().meta({ example: 'ntc_06h0ercpn5e1tm8gsc8mqy86dw' }),
    type: z.enum(NOTICE_TYPES),
    createdAt: z.iso.datetime(),
    matchId: z.string().nullable(),
    signalId: z
      .string()
      .nullable()
      .meta({ description: "The recipient's own signal for this young person, if any; in a family_match.* notice, its newest signal for a child of the family (never the other child)." }),
    reference: z.string().nullable().meta({ description: "The recipient's own case number, if any." }),
    parties: z.array(partySchema),
    coordinator: z
      .object({ agency: agencyRef, contact: professionalSchema.nullable() })
      .nullable()
      .meta({ description: 'Who coordinates the match; contact once a coordinator has claimed it.' }),
    caseTable: z
      .object({
        id: z.string(),
        scheduledFor: z.iso.datetime(),
        held: z.boolean().nullable(),
        attendedBy: z.array(z.string()).nullable().meta({ description: 'Those present whom the recipient may see.' }),
        leadAgencyId: z.string().nullable(),
        nextReviewOn: z.iso.date().nullable(),
      })
      .nullable()
      .meta({ description: 'The case table a case_table.* notice is about.' }),
    policy: z.object({ id: z.string(), version: z.string(), rules: z.array(z.string()) }).meta({
      description: 'The policy decision that made this disclosure, and the rules that made it.',
    }),
    acknowledgedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Notice' });
export type NoticeView = z.infer<typeof noticeSchema>;
/** What is sealed: the notice without its inbox state. */
export type NoticeBody = Omit<NoticeView, 'acknowledgedAt'>;
/**
 * Every notice body is parsed with this before it is written (and so before any inbox or webhook
 * shows it): a field the published schema does not name never leaves, and a wrong one fails loudly.
 */
export const noticeBodySchema = noticeSchema.omit({ acknowledgedAt: true });

export const noticeListSchema = z.object({ items: z.array(noticeSchema), next: z.string().nullable() }).meta({ id: 'NoticeList' });

export const listNoticesQuerySchema = z
  .strictObject({
    cursor: z.string().max(200).optional().meta({ description: 'The `next` of the previous page.' }),
    after: z.string().max(200).optional().meta({ description: 'Deprecated: the old name of `cursor`.', deprecated: true }),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    unacknowledged: z.enum(['true', 'false']).optional().meta({ description: 'Only notices not yet acknowledged.' }),
  })
  .refine((q) => q.cursor === undefined || q.after === undefined, { message: 'give cursor, not also after', path: ['after'] });
export type ListNoticesQuery = z.infer<typeof listNoticesQuerySchema>;
