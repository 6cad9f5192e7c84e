import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Every file and directory under `dir` (relative path → mode and SHA-256 of its bytes); {} if it does not exist. */
export function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(dir)) return out;
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, entry.name);
      const full = path.join(dir, r);
      const mode = (fs.statSync(full).mode & 0o7777).toString(8);
      if (entry.isDirectory()) {
        out[`${r}/`] = mode;
        walk(r);
      } else {
        out[r] = `${mode} ${createHash('sha256').update(fs.readFileSync(full)).digest('hex')}`;
      }
    }
  };
  walk('');
  return out;
}
