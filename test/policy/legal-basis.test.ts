import { describe, expect, it } from 'vitest';
import type { AccessReport } from '../../src/app/subject-rights.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import { createHarness, policyPath, validBsn } from '../support/harness.ts';
import { policyText, problemsOf } from '../support/policy-text.ts';
import { cli } from '../support/process.ts';

const text = policyText;
/** The policy text without its top-level legalBasis block (up to the next top-level key). */
const withoutLegalBasis = (yaml: string) => yaml.replace(/^legalBasis:\n(?:(?: .*)?\n)+/m, '');

const facts = policyPath('examples/school-gp-veilig-thuis').replace(/\.yaml$/, '.json');

describe('a policy names its legal basis', () => {
  it.each(['groningen', 'strict'])('%s: refuses to load without one, saying what is missing', (name) => {
    const edited = withoutLegalBasis(text(name));
    expect(edited).not.toContain('legalBasis');
    expect(problemsOf(edited)).toEqual([expect.stringMatching(/^legalBasis: required: the legal basis/)]);
  });

  it('refuses a legal basis without grounds, with an empty summary, or with fields of its own', () => {
    const groningen = text('groningen');
    expect(problemsOf(groningen)).toEqual([]);
    const noGrounds = groningen.replace(/^  grounds:\n(?:(?:    .*)?\n)+/m, '  grounds: []\n');
    expect(problemsOf(noGrounds)).toEqual([expect.stringMatching(/^legalBasis\.grounds: /)]);
    const emptySummary = groningen.replace(/^  summary: >-\n(?:    .*\n)+/m, "  summary: ''\n");
    expect(problemsOf(emptySummary)).toEqual([expect.stringMatching(/^legalBasis\.summary: /)]);
    const extra = groningen.replace('legalBasis:\n', 'legalBasis:\n  url: somewhere\n');
    expect(problemsOf(extra)).toEqual([expect.stringMatching(/^legalBasis: .*url/)]);
  });

  it('Groningen relies on the regional covenant first, then the Jeugdwet articles of the referral index', () => {
    const { legalBasis } = loadPolicy(policyPath('groningen'));
    expect(legalBasis.grounds.map((g) => g.title)).toEqual([
      'Convenant Verwijsindex/ Zorg voor Jeugd Groningen',
      'Jeugdwet, artikelen 7.1.1.1 tot en met 7.1.1.3',
      'Jeugdwet, artikel 7.1.4.1',
    ]);
    for (const g of legalBasis.grounds) expect(g.reference, g.title).toBeTruthy();
  });
});

describe.each([
  { name: 'groningen', names: ['Convenant Verwijsindex/ Zorg voor Jeugd Groningen', 'Jeugdwet, artikel 7.1.4.1'], absent: [] },
  // A covenant that stands on its own: nothing may mention the Jeugdwet it does not name.
  { name: 'strict', names: ['Regionaal convenant verwijsindex (voorbeeld)'], absent: ['Jeugdwet'] },
])('policy $name: the product shows the legal basis the policy names, and no other', ({ name, names, absent }) => {
  const policy = loadPolicy(policyPath(name));

  it('`policy explain` prints it, as text and in --json', () => {
    const out = cli(['policy', 'explain', policyPath(name), '--facts', facts], {});
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('legal basis');
    expect(out.stdout).toContain(policy.legalBasis.summary);
    for (const title of names) expect(out.stdout).toContain(`- ${title}`);
    for (const word of absent) expect(out.stdout).not.toContain(word);
    const json = cli(['policy', 'explain', policyPath(name), '--facts', facts, '--json'], {});
    expect(JSON.parse(json.stdout).legalBasis).toEqual(policy.legalBasis);
  }, 30_000);

  it('the answer to a subject access request explains it, also when nothing was registered', async () => {
    const h = await createHarness({ policy: name });
    const token = await h.token(await h.agency('municipality'));
    const res = await h.call('POST', '/v1/subject-requests/access', { token, body: { bsn: validBsn(5) } });
    expect(res.status).toBe(200);
    const report = (await res.json()) as AccessReport;
    expect(report.registrations).toEqual([]);
    expect(report.explanation).toEqual({ index: policy.name, legalBasis: policy.legalBasis });
    for (const word of absent) expect(JSON.stringify(report)).not.toContain(word);
  });

  it('/openapi.json describes it in info.description', async () => {
    const h = await createHarness({ policy: name });
    const doc = (await (await h.call('GET', '/openapi.json')).json()) as { info: { description: string } };
    expect(doc.info.description).toContain('## Legal basis');
    expect(doc.info.description).toContain(policy.legalBasis.summary);
    for (const title of names) expect(doc.info.description).toContain(`- ${title}`);
    for (const word of absent) expect(JSON.stringify(doc)).not.toContain(word);
  });
});
