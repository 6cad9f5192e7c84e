import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import GithubSlugger from 'github-slugger';
import MarkdownIt, { type Token } from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/harness.ts';

/**
 * The documentation ships with the product: every relative link in README.md and docs/*.md must
 * reach a file of the project (and a heading that exists, when it names one), and nothing may send
 * the reader to documentation outside the project.
 */

const md = new MarkdownIt();
const DOCS = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

const tokensOf = (file: string, root = ROOT): Token[] => md.parse(fs.readFileSync(path.join(root, file), 'utf8'), {});
const inline = (tokens: Token[]): Token[] => tokens.flatMap((t) => (t.type === 'inline' ? [t, ...(t.children ?? [])] : [t]));

function linksOf(file: string, root = ROOT): string[] {
  return inline(tokensOf(file, root)).flatMap((t) => {
    if (t.type === 'link_open') return [String(t.attrGet('href'))];
    if (t.type === 'image') return [String(t.attrGet('src'))];
    return [];
  });
}

/** The anchors GitHub gives the headings of a Markdown file. */
function anchorsOf(file: string, root = ROOT): Set<string> {
  const slugger = new GithubSlugger();
  const tokens = tokensOf(file, root);
  const anchors = new Set<string>();
  tokens.forEach((t, i) => {
    if (t.type !== 'heading_open') return;
    const text = (tokens[i + 1]!.children ?? []).map((c) => (c.type === 'text' || c.type === 'code_inline' ? c.content : '')).join('');
    anchors.add(slugger.slug(text));
  });
  return anchors;
}

const isExternal = (href: string) => /^[a-z][a-z0-9+.-]*:/i.test(href);

/** The relative links of `file` (under `root`) that lead out of `root`, to no file, or to no heading. */
function brokenLinks(root: string, file: string): string[] {
  const broken: string[] = [];
  for (const href of linksOf(file, root).filter((h) => !isExternal(h))) {
    const [target = '', anchor] = href.split('#');
    const resolved = target ? path.resolve(path.dirname(path.join(root, file)), decodeURIComponent(target)) : path.join(root, file);
    if (path.relative(root, resolved).startsWith('..')) broken.push(`${href}: outside the project`);
    else if (!fs.existsSync(resolved)) broken.push(`${href}: no such file`);
    else if (anchor && resolved.endsWith('.md') && !anchorsOf(path.relative(root, resolved), root).has(anchor)) broken.push(`${href}: no such heading`);
  }
  return broken;
}

describe('documentation links', () => {
  it('finds the documentation: an index and the pages it promises', () => {
    expect(DOCS).toEqual(expect.arrayContaining(['README.md', 'docs/README.md', 'docs/architecture.md', 'docs/api.md', 'docs/policy.md', 'docs/operations.md', 'docs/security.md', 'docs/glossary.md']));
    expect(linksOf('README.md')).toContain('docs/README.md');
  });

  it.each(DOCS)('%s: every relative link reaches a file of the project, and a heading where it names one', (file) => {
    expect(brokenLinks(ROOT, file)).toEqual([]);
  });

  it.each(DOCS)('%s: sends nobody to documentation outside the project', (file) => {
    expect(fs.readFileSync(path.join(ROOT, file), 'utf8')).not.toMatch(/\.\.\/shared\b/);
  });

  it('the check itself catches a missing file, a missing heading and a link out of the project', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'betrokken-docs-'));
    try {
      fs.mkdirSync(path.join(dir, 'docs'));
      fs.writeFileSync(path.join(dir, 'docs', 'a.md'), '# Keys and `rotation`\n\n## Keys and `rotation`\n');
      fs.writeFileSync(
        path.join(dir, 'README.md'),
        '[ok](docs/a.md#keys-and-rotation) [ok too](docs/a.md#keys-and-rotation-1) [web](https://example.org/x) ' +
          '[gone](docs/b.md) [no heading](docs/a.md#nothing) [out](../shared/DESIGN.md) ![img](docs/c.png) [self](#nowhere)\n',
      );
      expect(brokenLinks(dir, 'README.md')).toEqual([
        'docs/b.md: no such file',
        'docs/a.md#nothing: no such heading',
        '../shared/DESIGN.md: outside the project',
        'docs/c.png: no such file',
        '#nowhere: no such heading',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the README keeps its two commands at the top', () => {
    const fences = tokensOf('README.md').filter((t) => t.type === 'fence').slice(0, 2).map((t) => t.content.trim());
    expect(fences).toEqual(['npm install && npm start', 'npm install && npm test']);
  });
});
