import fs from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { parse } from 'yaml';
import { type AgencyType, type Policy, type PolicyDocument, policySchema } from './types.ts';

/** Thrown when a policy file cannot be read or does not validate; `problems` lists every reason. */
export class PolicyError extends Error {
  readonly code = 'ERR_POLICY_INVALID';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`policy ${source} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Validates policy text (YAML). The version is the content hash of the validated document. */
export function parsePolicy(text: string, source = 'policy'): Policy {
  let raw: unknown;
  try {
    raw = parse(text, { prettyErrors: true });
  } catch (err) {
    throw new PolicyError(source, [`not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  const parsed = policySchema.safeParse(raw);
  if (!parsed.success) {
    throw new PolicyError(
      source,
      parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)),
    );
  }
  const unread = unreadableNotices(parsed.data);
  if (unread.length > 0) throw new PolicyError(source, unread);
  const version = bytesToHex(sha256(utf8ToBytes(JSON.stringify(parsed.data)))).slice(0, 16);
  return { ...parsed.data, version };
}

/**
 * The agency types the index may send notices to: every type that may register (match and
 * signal notices), WIJ teams when they coordinate by district, and municipalities, which
 * coordinate where no WIJ team does and receive every escalation.
 */
export function noticeRecipientTypes(policy: PolicyDocument): AgencyType[] {
  const types = new Set<AgencyType>();
  for (const [type, rules] of Object.entries(policy.agencyTypes)) if (rules!.register.length > 0) types.add(type as AgencyType);
  if (policy.coordination.route.includes('district_wij')) types.add('wij');
  types.add('municipality');
  return [...types].sort();
}

/** A type that can be sent notices must be able to read them (`notices:read`). */
function unreadableNotices(policy: PolicyDocument): string[] {
  return noticeRecipientTypes(policy)
    .filter((type) => !policy.agencyTypes[type]?.scopes.includes('notices:read'))
    .map((type) => `agencyTypes.${type}.scopes: ${type} can be sent notices, so it needs notices:read`);
}

export function loadPolicy(file: string): Policy {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyError(file, [`cannot read: ${(err as NodeJS.ErrnoException).code ?? 'unknown error'}`]);
  }
  return parsePolicy(text, file);
}
