import { z } from 'zod';
import { policySchema } from './types.ts';

/** The JSON Schema of the policy file format, for editors and reviewers (schema/policy.schema.json). */
export function policyJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(policySchema, { target: 'draft-2020-12', io: 'input' }),
    title: 'Betrokken policy file',
  };
}
