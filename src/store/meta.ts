import { eq } from 'drizzle-orm';
import { exec, first, type Tx } from './db.ts';

export async function readMeta(tx: Tx, key: string): Promise<string | undefined> {
  const { meta } = tx.t;
  return (await first(tx, tx.db.select({ value: meta.value }).from(meta).where(eq(meta.key, key))))?.value;
}

export async function writeMeta(tx: Tx, key: string, value: string): Promise<void> {
  const { meta } = tx.t;
  await exec(tx, tx.db.insert(meta).values({ key, value }).onConflictDoUpdate({ target: meta.key, set: { value } }));
}
