import type { SealedSignal } from './signal-record.ts';
import type { RegisterSignalInput, RegistrationWarning } from './signal-schemas.ts';

type Field = RegistrationWarning['field'];

/** What PATCH /v1/signals/{id} can change; the rest is fixed once registered. */
const PATCHABLE: ReadonlySet<Field> = new Set(['reference', 'professional', 'informed']);

/** JSON with sorted keys, so that two objects with the same content compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as object).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/**
 * A registration for a young person the agency already has an active signal for returns that
 * signal unchanged; this names each detail given that differs from it, and how it can be changed.
 */
export function registrationWarnings(
  signalId: string,
  municipality: string,
  active: SealedSignal,
  input: RegisterSignalInput,
  /** The pseudonyms of the parents named now (when any are) and of those the signal has. */
  parents?: { given: string[]; current: string[] },
): RegistrationWarning[] {
  const given: Array<[Field, unknown, unknown]> = [
    ['parents', parents && input.parents ? [...parents.given].sort() : undefined, parents ? [...parents.current].sort() : undefined],
    ['kind', input.kind, active.kind],
    ['municipality', input.municipality, municipality],
    ['district', input.district, active.district],
    ['birthDate', input.birthDate, active.birthDate],
    ['reference', input.reference, active.reference],
    ['professional', input.professional, active.professional],
    ['informed', input.informed, active.informed],
  ];
  return given
    .filter(([, value, current]) => value !== undefined && canonical(value) !== canonical(current))
    .map(([field]) => ({
      code: 'detail_not_applied' as const,
      title: 'Not applied: your agency already has an active signal for this young person',
      detail: PATCHABLE.has(field)
        ? `${field} differs from the active signal and was not changed; PATCH /v1/signals/${signalId} changes it`
        : `${field} differs from the active signal and was not changed; it cannot be changed: withdraw the signal (registered_in_error) and register again`,
      field,
    }));
}
