import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { listInbox } from '../../src/store/notices.ts';
import { asStore, openPgStore } from '../../src/store/pg-store.ts';
import { openTestPgStore } from '../support/store-choice.ts';

/**
 * A managed PostgreSQL is often created with an English or Dutch locale, under which 'ntc_a' sorts
 * before 'ntc_B'; SQLite and JavaScript compare bytes. Cursor paging compares ids in the database
 * (`id > after order by id`), so migration 0005 gives every text column PostgreSQL's "C" collation.
 */
describe('notices on a PostgreSQL database created with a Dutch locale', () => {
  it('pages the inbox in the byte order of ids, as on SQLite; every text column compares bytes', async () => {
    const base = await openTestPgStore();
    const name = `betrokken_nl_${randomBytes(6).toString('hex')}`;
    const url = new URL(base.url);
    url.pathname = `/${name}`;
    await base.store.pool.query(`create database "${name}" template template0 locale_provider icu icu_locale 'nl-NL' locale 'C.UTF-8'`);
    const store = openPgStore(url.toString(), { max: 2 });
    try {
      await store.migrate();
      const q = async (text: string, values: unknown[] = []) => (await store.pool.query(text, values)).rows;
      // The database's own order is the Dutch one …
      expect(await q("select array_agg(v order by v) as a from unnest(array['ntc_B', 'ntc_a']) v")).toEqual([{ a: ['ntc_a', 'ntc_B'] }]);
      // … but no column of the schema uses it (a new table's text columns need COLLATE "C" too).
      expect(await q("select table_name, column_name from information_schema.columns where table_schema = current_schema() and data_type = 'text' and collation_name is distinct from 'C'")).toEqual([]);

      const at = '2026-03-02T09:00:00.000Z';
      await q("insert into agencies (id, name, type, municipality, districts, grants, status, created_at) values ('agy_1', 'school', 'school', '0014', '[]', '[]', 'active', $1)", [at]);
      const ids = ['ntc_B', 'ntc_a', 'ntc_-c', 'ntc_A0', 'ntc_aB'];
      for (const id of ids) {
        await q("insert into notices (id, agency_id, type, sealed, policy_id, policy_version, created_at) values ($1, 'agy_1', 'match.created', '\\x00', 'groningen', '1', $2)", [id, at]);
      }
      const paged: string[] = [];
      for (let after: string | undefined; ; ) {
        const page = await listInbox(asStore(store).reader, 'agy_1', { limit: 2, unacknowledged: false, ...(after ? { after } : {}) });
        if (page.length === 0) break;
        paged.push(...page.map((n) => n.id));
        after = page.at(-1)!.id;
      }
      expect(paged).toEqual([...ids].sort());
    } finally {
      await store.close();
      await base.store.pool.query(`drop database if exists "${name}" with (force)`);
      await base.close();
    }
  }, 30_000);
});
