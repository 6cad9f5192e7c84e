import { z } from 'zod';
import { type Deps, withTransaction } from '../app/context.ts';
import { conflict, invalid, notFound } from '../app/errors.ts';
import { activeAgencyById } from '../store/agencies.ts';
import { appendAudit } from '../store/audit.ts';
import { insertProfessional, professionalByEmail, type ProfessionalRow, replaceInvitation } from '../store/professionals.ts';
import { ROLES } from './roles.ts';
import { hashSecret, newProfessionalId, newSecret } from './secrets.ts';

/** How long an invitation link works. */
export const INVITATION_HOURS = 72;

export const professionalFieldsSchema = z.strictObject({
  name: z.string().trim().min(1).max(120),
  email: z.email().trim().toLowerCase().max(254),
  phone: z
    .string()
    .trim()
    .regex(/^\+?[0-9][0-9 ()-]{5,19}$/, 'a phone number')
    .optional(),
  roles: z.array(z.enum(ROLES)).min(1).transform((r) => [...new Set(r)]),
});
export type ProfessionalFields = z.infer<typeof professionalFieldsSchema>;

/** Where an invitation token is opened: the console under the service's public URL. */
export function invitationLink(issuer: string, token: string): string {
  return `${issuer}/console/uitnodiging/${token}`;
}

/**
 * Invites a professional of the agency: a new professional waits for enrolment, or one still
 * waiting gets a new link (the old one stops working). A link is shown once; only its hash is kept.
 * `invitedBy` is the inviting administrator, or null for the operator's command line.
 */
export async function inviteProfessional(
  deps: Deps,
  input: { agencyId: string; fields: unknown; invitedBy: string | null; requestId?: string | null },
): Promise<{ professional: ProfessionalRow; link: string; expiresAt: string; renewed: boolean }> {
  const parsed = professionalFieldsSchema.safeParse(input.fields);
  if (!parsed.success) {
    throw invalid('validation_failed', 'the professional is not described correctly', parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  const fields = parsed.data;
  const now = deps.clock.now();
  const at = now.toISOString();
  const token = newSecret();
  const expiresAt = new Date(now.getTime() + INVITATION_HOURS * 3_600_000).toISOString();
  return withTransaction(deps, async (tx) => {
    const agency = await activeAgencyById(tx, input.agencyId);
    if (!agency) throw notFound('agency_not_found', 'no active agency with that id');
    const existing = await professionalByEmail(tx, agency.id, fields.email);
    if (existing && existing.status !== 'invited') throw conflict('professional_exists', 'a professional with that e-mail address already works here');
    const professional: ProfessionalRow = existing ?? {
      id: newProfessionalId(),
      agencyId: agency.id,
      name: fields.name,
      email: fields.email,
      phone: fields.phone ?? null,
      roles: fields.roles,
      status: 'invited',
      webauthnUserId: newSecret(),
      oidcIssuer: null,
      oidcSubject: null,
      createdAt: at,
    };
    const invitation = { tokenHash: hashSecret(token), professionalId: professional.id, invitedBy: input.invitedBy, createdAt: at, expiresAt, usedAt: null };
    const audit = { at, agencyId: agency.id, actor: input.invitedBy, action: 'professional.invite', subject: null, resource: professional.id, outcome: existing ? 'renewed' : 'created', requestId: input.requestId ?? null };
    if (!existing) await insertProfessional(tx, professional);
    await replaceInvitation(tx, invitation);
    await appendAudit(tx, audit);
    return { professional, link: invitationLink(deps.issuer, token), expiresAt, renewed: existing !== undefined };
  });
}
