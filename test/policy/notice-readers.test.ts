import { describe, expect, it } from 'vitest';
import { loadPolicy, noticeRecipientTypes } from '../../src/policy/load.ts';
import { policyPath } from '../support/harness.ts';
import { policyText, problemsOf } from '../support/policy-text.ts';

const text = policyText;

describe.each(['groningen', 'strict'])('policy %s: whoever can be sent notices can read them', (name) => {
  it('gives every recipient type notices:read, the municipality included', () => {
    const policy = loadPolicy(policyPath(name));
    const recipients = noticeRecipientTypes(policy);
    expect(recipients).toEqual(expect.arrayContaining(['school', 'gp', 'veilig_thuis', 'wij', 'municipality']));
    for (const type of recipients) expect(policy.agencyTypes[type]!.scopes, type).toContain('notices:read');
  });

  it('is refused when the municipality lacks notices:read', () => {
    const edited = text(name).replace('scopes: [notices:read, matches:coordinate, subjects:rights, stats:read]', 'scopes: [matches:coordinate, subjects:rights, stats:read]');
    expect(edited).not.toBe(text(name));
    expect(problemsOf(edited)).toEqual(['agencyTypes.municipality.scopes: municipality can be sent notices, so it needs notices:read']);
  });

  it('is refused when a type that registers lacks notices:read', () => {
    const edited = text(name).replace(/(  jgz:\n    rule: [\w.-]+\n    register: \[[^\]]*\]\n    scopes: )\[signals:write, signals:read, notices:read\]/, '$1[signals:write, signals:read]');
    expect(edited).not.toBe(text(name));
    expect(problemsOf(edited)).toEqual(['agencyTypes.jgz.scopes: jgz can be sent notices, so it needs notices:read']);
  });

  it('lets a type that neither registers nor coordinates go without it', () => {
    expect(noticeRecipientTypes(loadPolicy(policyPath(name)))).not.toContain('operator');
    expect(problemsOf(text(name))).toEqual([]);
  });
});
