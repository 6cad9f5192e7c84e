import fs from 'node:fs';
import { expect } from 'vitest';
import { parsePolicy, PolicyError } from '../../src/policy/load.ts';
import { policyPath } from './harness.ts';

/** A policy file's text, to edit in a test. */
export const policyText = (name: string) => fs.readFileSync(policyPath(name), 'utf8');

/** The problems the loader names in an edited policy text (none: it loads). */
export function problemsOf(yaml: string): string[] {
  try {
    parsePolicy(yaml, 'edited.yaml');
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as PolicyError).problems;
  }
}
