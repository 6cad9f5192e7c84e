import { z } from 'zod';
import { caseTablesHeldBetween, matchesCreatedBetween, signalsRegisteredBetween } from '../store/stats.ts';
import { auditAccess } from './audit.ts';
import { type Ctx, requireScope, withTransaction } from './context.ts';
import { invalid } from './errors.ts';

const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM');
export const statsQuerySchema = z.strictObject({
  from: month,
  to: month,
  by: z.enum(['month', 'municipality', 'agencyType']).default('month'),
});
export type StatsQuery = z.infer<typeof statsQuerySchema>;

const cell = z.object({ value: z.number().nullable(), suppressed: z.boolean() });
/** matches: child matches (the claim figures are theirs); familyMatches: of the children of one parent, counted apart. */
const COLUMNS = ['signals', 'matches', 'familyMatches', 'claimedWithinDeadline', 'medianDaysToClaim', 'caseTablesHeld'] as const;
type Column = (typeof COLUMNS)[number];
const rowSchema = z.object({ key: z.string(), ...Object.fromEntries(COLUMNS.map((c) => [c, cell])) } as { key: z.ZodString } & Record<Column, typeof cell>);
export const statsSchema = z
  .object({ from: z.string(), to: z.string(), by: z.string(), minCell: z.number().int(), rows: z.array(rowSchema), total: rowSchema })
  .meta({ id: 'Statistics', description: 'Counts under the policy minimum are null with suppressed: true, and so is any cell that would give one away.' });
type Row = z.infer<typeof rowSchema>;
export type Stats = z.infer<typeof statsSchema>;

interface Raw {
  signals: number;
  matches: number;
  familyMatches: number;
  claimedInTime: number;
  claimDays: number[];
  caseTablesHeld: number;
}
const empty = (): Raw => ({ signals: 0, matches: 0, familyMatches: 0, claimedInTime: 0, claimDays: [], caseTablesHeld: 0 });

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return Math.round((s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2) * 10) / 10;
}

function toRow(key: string, r: Raw): Row {
  const c = (value: number | null) => ({ value, suppressed: false });
  return {
    key,
    signals: c(r.signals),
    matches: c(r.matches),
    familyMatches: c(r.familyMatches),
    claimedWithinDeadline: c(r.matches ? Math.round((r.claimedInTime / r.matches) * 1000) / 1000 : null),
    medianDaysToClaim: c(median(r.claimDays)),
    caseTablesHeld: c(r.caseTablesHeld),
  };
}

/**
 * Small-cell suppression: a count under the minimum (but above zero) is withheld, and so are the
 * figures derived from it. Where a column has exactly one withheld cell, the smallest other cell is
 * withheld too, so the withheld one cannot be found by subtracting the others from the total.
 */
export function suppress(rows: Row[], total: Row, minCell: number): void {
  const hide = (r: Row, col: Column) => {
    r[col] = { value: null, suppressed: true };
    if (col === 'matches') {
      r.claimedWithinDeadline = { value: null, suppressed: true };
      r.medianDaysToClaim = { value: null, suppressed: true };
    }
  };
  for (const col of ['signals', 'matches', 'familyMatches', 'caseTablesHeld'] as const) {
    for (const r of [...rows, total]) {
      const v = r[col].value ?? 0;
      if (v > 0 && v < minCell) hide(r, col);
    }
    const hidden = rows.filter((r) => r[col].suppressed);
    if (hidden.length === 1 && !total[col].suppressed) {
      const next = rows
        .filter((r) => !r[col].suppressed && (r[col].value ?? 0) > 0)
        .sort((a, b) => a[col].value! - b[col].value!)[0];
      if (next) hide(next, col);
      else hide(total, col);
    }
  }
}

/** Statistics for the region's accountability, never about one family (API.md, statistics). */
export async function statistics({ ctx, query }: { ctx: Ctx; query: StatsQuery }): Promise<Stats> {
  requireScope(ctx, 'stats:read');
  if (query.from > query.to) throw invalid('validation_failed', 'from must not be after to');
  const start = `${query.from}-01T00:00:00.000Z`;
  const [ty, tm] = query.to.split('-').map(Number) as [number, number];
  const end = new Date(Date.UTC(ty, tm, 1)).toISOString();
  return withTransaction(ctx.deps, async (tx) => {
    const groups = new Map<string, Raw>();
    const at = (key: string) => groups.get(key) ?? groups.set(key, empty()).get(key)!;
    const keyOf = (date: string, municipality: string, agencyType: string | null) =>
      query.by === 'month' ? date.slice(0, 7) : query.by === 'municipality' ? municipality : (agencyType ?? 'unassigned');

    for (const s of await signalsRegisteredBetween(tx, start, end)) at(keyOf(s.at, s.municipality, s.type)).signals++;

    for (const m of await matchesCreatedBetween(tx, start, end)) {
      const g = at(keyOf(m.createdAt, m.municipality, m.type));
      if (m.kind === 'family') {
        g.familyMatches++;
        continue;
      }
      g.matches++;
      if (m.claimedAt) {
        if (m.claimedAt <= m.claimBy) g.claimedInTime++;
        g.claimDays.push((Date.parse(m.claimedAt) - Date.parse(m.createdAt)) / 86_400_000);
      }
    }

    for (const t of await caseTablesHeldBetween(tx, start, end)) at(keyOf(t.at!, t.municipality, t.type)).caseTablesHeld++;

    const keys = [...groups.keys()].sort();
    const all = empty();
    for (const g of groups.values()) {
      all.signals += g.signals;
      all.matches += g.matches;
      all.familyMatches += g.familyMatches;
      all.claimedInTime += g.claimedInTime;
      all.claimDays.push(...g.claimDays);
      all.caseTablesHeld += g.caseTablesHeld;
    }
    const rows = keys.map((k) => toRow(k, groups.get(k)!));
    const total = toRow('total', all);
    suppress(rows, total, ctx.deps.policy.statistics.minCell);
    await auditAccess(tx, ctx, { action: 'stats.read', subject: null, resource: `${query.from}..${query.to} by ${query.by}`, outcome: 'ok' });
    return { from: query.from, to: query.to, by: query.by, minCell: ctx.deps.policy.statistics.minCell, rows, total };
  });
}
