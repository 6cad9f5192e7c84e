import fs from 'node:fs';
import path from 'node:path';
import { generateDrizzleJson, generateMigration } from 'drizzle-kit/api';
import { describe, expect, it } from 'vitest';
import * as pgTables from '../../schema/tables.pg.ts';
import { PG_MIGRATIONS } from '../../src/store/pg.ts';

/** schema/migrations-pg must hold what schema/tables.pg.ts describes (`npm run db:generate:pg` after a change). */

const meta = (file: string) => JSON.parse(fs.readFileSync(path.join(PG_MIGRATIONS, 'meta', file), 'utf8'));

describe('schema/migrations-pg', () => {
  const journal = meta('_journal.json') as { entries: Array<{ idx: number; tag: string }> };
  const last = journal.entries.at(-1)!;
  const snapshot = meta(`${String(last.idx).padStart(4, '0')}_snapshot.json`) as Parameters<typeof generateMigration>[0];

  it('has a migration file for every journal entry', () => {
    for (const { tag } of journal.entries) expect(fs.existsSync(path.join(PG_MIGRATIONS, `${tag}.sql`)), tag).toBe(true);
  });

  it('leaves nothing for drizzle-kit to generate from schema/tables.pg.ts', async () => {
    const current = generateDrizzleJson(pgTables, snapshot.id);
    expect(await generateMigration(snapshot, current)).toEqual([]);
  });

  it('would notice a table missing from the migrations', async () => {
    const empty = generateDrizzleJson({});
    const statements = await generateMigration(empty, generateDrizzleJson(pgTables, empty.id));
    expect(statements.some((s) => s.includes('CREATE TABLE "audit_log"'))).toBe(true);
  });
});
