import { z } from 'zod';
import { SIGNAL_KINDS } from '../policy/types.ts';

/**
 * Request and response shapes for signals: the single description that validates input and
 * generates the OpenAPI document. Objects are strict: there is no field for free text about a
 * young person, and an unknown field is refused rather than dropped.
 */

export const professionalSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(120),
    phone: z.string().trim().regex(/^\+?[0-9][0-9 ()-]{5,19}$/, 'a phone number').optional(),
    email: z.email().max(254).optional(),
  })
  .refine((p) => p.phone !== undefined || p.email !== undefined, {
    message: 'give a phone number or an e-mail address, so that others can reach the professional',
    path: ['phone'],
  })
  .meta({ id: 'Professional', description: 'The registering professional, as others may reach them.' });
export type ProfessionalInput = z.infer<typeof professionalSchema>;

export const informedSchema = z
  .discriminatedUnion('status', [
    z.strictObject({ status: z.literal('informed') }),
    z.strictObject({ status: z.literal('pending') }),
    z.strictObject({
      status: z.literal('exempt'),
      exemption: z.enum(['child_safety', 'others_safety', 'unreachable']),
    }),
  ])
  .meta({ id: 'Informed', description: 'The informing duty: informed, pending, or the exemption that applied.' });

/** An agency's own case number: a code, not a sentence (no spaces, so no room for prose). */
export const referenceSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,63}$/, 'a case number of at most 64 letters, digits and . _ : / # -')
  .meta({ description: "The registering agency's own case number; only it ever sees this." });

export const registerSignalSchema = z
  .strictObject({
    bsn: z.string().meta({ description: 'BSN of the young person; never stored, only its keyed pseudonym.', example: '111222333' }),
    birthDate: z.iso.date(),
    municipality: z.string().regex(/^\d{4}$/, 'a four-digit CBS municipality code').meta({ example: '0014' }),
    district: z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a district name as the WIJ teams use it')
      .optional()
      .meta({ example: 'selwerd' }),
    kind: z.enum(SIGNAL_KINDS).optional().meta({
      description:
        'involvement: "we provide care or support to this young person"; concern: "we are worried about this young person and do not provide care". ' +
        'Both make matches. Absent: the first kind the policy lets the caller\'s agency type register (involvement where it may).',
    }),
    reference: referenceSchema.optional(),
    professional: professionalSchema,
    informed: informedSchema,
    parents: z
      .array(z.strictObject({ bsn: z.string().meta({ description: 'BSN of a parent or guardian; never stored, only its keyed pseudonym.', example: '123456782' }) }))
      .max(2)
      .optional()
      .meta({
        description:
          'The young person\'s parents or guardians (at most two), for family matches: two agencies involved with different children of one parent. ' +
          'Only where the policy has family matching on for the caller\'s agency type.',
      }),
  })
  .meta({ id: 'RegisterSignal' });
export type RegisterSignalInput = z.infer<typeof registerSignalSchema>;

export const updateSignalSchema = z
  .strictObject({
    informed: informedSchema.optional(),
    professional: professionalSchema.optional(),
    reference: referenceSchema.nullable().optional(),
  })
  .refine((u) => Object.keys(u).length > 0, { message: 'name at least one of informed, professional, reference' })
  .meta({ id: 'UpdateSignal' });
export type UpdateSignalInput = z.infer<typeof updateSignalSchema>;

export const withdrawSignalSchema = z
  .strictObject({ reason: z.enum(['care_ended', 'registered_in_error', 'moved', 'other']) })
  .meta({ id: 'WithdrawSignal' });
export type WithdrawSignalInput = z.infer<typeof withdrawSignalSchema>;

export const signalSchema = z
  .object({
    id: z.string().meta({ example: 'sig_01jd6x9k2m3n4p5q6r7s8t9v0w' }),
    status: z.enum(['active', 'ended']),
    kind: z.enum(SIGNAL_KINDS),
    municipality: z.string(),
    district: z.string().nullable(),
    registeredAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    endedAt: z.iso.datetime().nullable(),
    endReason: z.enum(['care_ended', 'registered_in_error', 'moved', 'other', 'expired']).nullable(),
    reference: z.string().nullable(),
    professional: professionalSchema,
    informed: informedSchema,
  })
  .meta({ id: 'Signal', description: "One of the caller's own signals. It never holds the BSN." });
export type SignalView = z.infer<typeof signalSchema>;

export const registrationWarningSchema = z
  .object({
    code: z.literal('detail_not_applied'),
    title: z.string(),
    detail: z.string(),
    field: z.enum(['kind', 'municipality', 'district', 'birthDate', 'reference', 'professional', 'informed', 'parents']),
  })
  .meta({ id: 'RegistrationWarning', description: 'A detail of a repeated registration that was not applied to the active signal.' });
export type RegistrationWarning = z.infer<typeof registrationWarningSchema>;

/** The answer to a registration: the signal, and for a repeated one what it did not change. */
export const registeredSignalSchema = signalSchema
  .extend({ warnings: z.array(registrationWarningSchema).optional() })
  .meta({ id: 'RegisteredSignal', description: 'The signal; `warnings` names details of a repeated registration that were not applied.' });

export const signalListSchema = z
  .object({ items: z.array(signalSchema), next: z.string().nullable() })
  .meta({ id: 'SignalList' });

export const listSignalsQuerySchema = z.strictObject({
  status: z.enum(['active', 'ended']).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type ListSignalsQuery = z.infer<typeof listSignalsQuerySchema>;
