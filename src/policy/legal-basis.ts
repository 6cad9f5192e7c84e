import type { LegalBasis } from './types.ts';

/**
 * The policy's legal basis as text that reads the same in a terminal and as Markdown: the summary,
 * then one line per ground. Nothing is added that the policy does not name.
 */
export function describeLegalBasis(basis: LegalBasis): string {
  const grounds = basis.grounds.map((g) => {
    const text = g.text ? `: ${g.text}` : '';
    const reference = g.reference ? ` (${g.reference})` : '';
    return `- ${g.title}${text}${reference}`;
  });
  return [basis.summary.trim(), '', ...grounds].join('\n');
}
