import { describe, expect, it } from 'vitest';
import { runRetention } from '../../src/jobs/retention.ts';
import { loadSubjectKey } from '../../src/store/subjects.ts';
import { validBsn } from '../support/harness.ts';
import { World } from '../support/world.ts';

const types = async (w: World, label: string) => (await w.inbox(label)).map((n) => n.type);

describe('retention (time travel with the injected clock)', () => {
  it('family matches: the siblings\' signals expire and the family match ends; after the archive period the family goes too', async () => {
    const w = await World.create();
    await w.step('+school#1^a');
    await w.step('+yc#2^a');
    expect(await types(w, 'wij')).toEqual(['family_match.coordinator_assigned']);
    w.h.clock.set('2028-03-02T09:00:00.000Z');
    expect((await runRetention(w.h.deps)).expired).toBe(2);
    expect(await types(w, 'wij')).toEqual(['family_match.coordinator_assigned', 'family_match.closed']);
    expect(await types(w, 'school')).toEqual(['family_match.created']); // both ended at once: nobody is left to tell
    const families = () => w.h.row("select count(*) n from subjects where kind = 'family'");
    expect(await families()).toEqual({ n: 1 });
    w.h.clock.set('2033-03-02T09:00:01.000Z');
    expect((await runRetention(w.h.deps)).destroyed).toBe(2); // the two young people
    expect(await families()).toEqual({ n: 0 }); // and with their last registrations, the family
    for (const table of ['matches', 'notices', 'signal_families', 'match_recipients']) {
      expect(await w.h.row(`select count(*) n from ${table}`), table).toEqual({ n: 0 });
    }
  });

  it('a signal expires at 24 months: its registrant hears 30 days before, then it leaves the match', async () => {
    const w = await World.create();
    await w.step('+school');
    await w.step('+gp');
    w.h.clock.set('2028-01-31T08:00:00.000Z');
    expect(await runRetention(w.h.deps)).toEqual({ expiringNoticed: 0, expired: 0, destroyed: 0 });
    w.h.clock.set('2028-02-01T09:30:00.000Z');
    expect(await runRetention(w.h.deps)).toEqual({ expiringNoticed: 2, expired: 0, destroyed: 0 });
    expect(await runRetention(w.h.deps)).toEqual({ expiringNoticed: 0, expired: 0, destroyed: 0 });
    expect(await types(w, 'school')).toEqual(['match.created', 'signal.expiring']);
    expect((await w.inbox('school')).at(-1)!.parties.map((p) => p.view)).toEqual(['contact']); // as the policy already showed

    w.h.clock.set('2028-03-02T09:00:00.000Z');
    expect(await runRetention(w.h.deps)).toEqual({ expiringNoticed: 0, expired: 2, destroyed: 0 });
    expect(await runRetention(w.h.deps)).toEqual({ expiringNoticed: 0, expired: 0, destroyed: 0 });
    expect(await types(w, 'wij')).toEqual(['match.coordinator_assigned', 'match.closed']);
    expect(await types(w, 'school')).toEqual(['match.created', 'signal.expiring']);
    const status = await w.h.rows('select status, end_reason from signals');
    expect(status).toEqual([{ status: 'ended', end_reason: 'expired' }, { status: 'ended', end_reason: 'expired' }]);
    expect(await w.h.row("select count(*) n from matches where status in ('open','claimed','escalated')")).toEqual({ n: 0 });
  });

  it('a signal ends at the subject’s 23rd birthday when that comes first', async () => {
    const w = await World.create();
    await w.register('gp', 1, { birthDate: '2003-09-01' });
    await w.register('yc', 1, { birthDate: '2003-09-01' });
    w.h.clock.set('2026-08-31T23:59:00.000Z');
    expect((await runRetention(w.h.deps)).expired).toBe(0);
    w.h.clock.set('2026-09-01T00:00:00.000Z');
    expect((await runRetention(w.h.deps)).expired).toBe(2);
    expect(await types(w, 'wij')).toEqual(['match.coordinator_assigned', 'match.closed']);
  });

  it('after the archive period nothing of the subject can be unsealed and no row names it but the audit log', async () => {
    const w = await World.create();
    await w.step('+school');
    await w.step('+gp');
    await w.step('+school#2'); // another young person, still registered later on
    const pseudonym = w.h.keys.pseudonymize(validBsn(1));
    const subjectId = (await w.h.row<{ id: string }>('select id from subjects where pseudonym = ?', pseudonym))!.id;
    w.h.clock.set('2028-03-02T09:00:00.000Z');
    await runRetention(w.h.deps);
    await w.register('gp', 2); // keeps subject 2 live

    w.h.clock.set('2033-03-01T09:00:00.000Z'); // a day short of five years after the end
    expect((await runRetention(w.h.deps)).destroyed).toBe(0);
    w.h.clock.set('2033-03-02T09:00:01.000Z');
    expect((await runRetention(w.h.deps)).destroyed).toBe(1);
    expect((await runRetention(w.h.deps)).destroyed).toBe(0);

    await expect(loadSubjectKey(w.h.store.reader, w.h.keys, subjectId)).rejects.toThrow();
    for (const table of (await w.h.tables()).filter((t) => t !== 'audit_log')) {
      const text = JSON.stringify(await w.h.rows(`select * from "${table}"`));
      expect(text.includes(pseudonym), table).toBe(false);
      expect(text.includes(subjectId), table).toBe(false);
    }
    const audit = await w.h.rows<{ action: string }>('select action from audit_log where subject = ? order by seq', pseudonym);
    expect(audit.at(-1)!.action).toBe('subject.destroy');
    // The other young person is untouched.
    expect(await w.h.row('select count(*) n from subjects')).toEqual({ n: 1 });
  });
});
