import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/harness.ts';

/** The modules a source text imports (static, re-exports and dynamic imports). */
function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2])!);
}
const databaseLayer = (from: string) => /^drizzle-orm(\/|$)/.test(from) || /(^|\/)schema\//.test(from);

/** Every TypeScript file under a folder of src, with its import specifiers. */
function importsUnder(folder: string): Array<{ file: string; from: string }> {
  const out: Array<{ file: string; from: string }> = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.tsx?$/.test(entry.name)) {
        for (const from of importsOf(fs.readFileSync(full, 'utf8'))) out.push({ file: path.relative(ROOT, full), from });
      }
    }
  };
  walk(path.join(ROOT, 'src', folder));
  return out;
}

describe('the store is the only place that knows SQL', () => {
  it.each(['app', 'jobs', 'http', 'notify', 'console'])('src/%s imports neither drizzle-orm nor the schema', (folder) => {
    const imports = importsUnder(folder);
    expect(imports.length).toBeGreaterThan(10); // the scan reads what it should
    const offending = imports.filter((i) => databaseLayer(i.from)).map((i) => `${i.file}: ${i.from}`);
    expect(offending).toEqual([]);
  });

  it('the check catches an import of the database layer', () => {
    const text = "import { and,\n  eq } from 'drizzle-orm';\nimport type { signals } from '../../schema/tables.ts';\nconst t = await import('drizzle-orm/sqlite-core');\nimport { x } from './store/signals.ts';";
    expect(importsOf(text).filter(databaseLayer)).toEqual(['drizzle-orm', '../../schema/tables.ts', 'drizzle-orm/sqlite-core']);
  });
});
