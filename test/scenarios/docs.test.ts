import { describe, expect, it } from 'vitest';
import { createHarness, ISSUER } from '../support/harness.ts';

/** The service's own origin; anything else a page would load is external. */
const ORIGIN = new URL(ISSUER).origin;

const isExternal = (ref: string) => {
  if (/^(data:|#)/i.test(ref)) return false;
  const url = new URL(ref, `${ORIGIN}/docs`);
  return url.origin !== ORIGIN;
};

/** What a browser would load from an HTML page, a style sheet or a script. */
function references(body: string, type: string): string[] {
  if (type.startsWith('text/html')) {
    return [...body.matchAll(/\b(?:src|href)\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1]!);
  }
  if (type.startsWith('text/css')) {
    return [
      ...[...body.matchAll(/url\(\s*["']?([^"')]+)["']?\s*\)/gi)].map((m) => m[1]!),
      ...[...body.matchAll(/@import\s+["']([^"']+)["']/gi)].map((m) => m[1]!),
      ...[...body.matchAll(/sourceMappingURL=(\S+)/g)].map((m) => m[1]!.replace(/\s*\*\/$/, '')),
    ];
  }
  if (type.startsWith('text/javascript')) {
    return [...body.matchAll(/^\/\/# sourceMappingURL=(\S+)$/gm)].map((m) => m[1]!);
  }
  return [];
}

describe('/docs works offline', () => {
  it('loads the page and every asset it references from the service itself, under a CSP without other origins', async () => {
    const h = await createHarness();
    const seen = new Map<string, string>();
    const queue = ['/docs'];
    while (queue.length) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      const res = await h.call('GET', path);
      expect(res.status, path).toBe(200);
      const type = res.headers.get('content-type') ?? '';
      const csp = res.headers.get('content-security-policy') ?? '';
      // A policy that names no other origin: only 'self', 'none', data: and keywords.
      expect(csp, path).toMatch(/default-src 'none'/);
      expect(csp, path).toMatch(/frame-ancestors 'none'/);
      expect(csp, path).not.toMatch(/https?:|\*|'unsafe-eval'/);
      expect(csp.match(/script-src [^;]*/)?.[0], path).toBe("script-src 'self'");
      const body = type.startsWith('image/') ? '' : await res.text();
      seen.set(path, type);
      for (const ref of references(body, type)) {
        expect(isExternal(ref), `${path} references ${ref}`).toBe(false);
        if (!/^(data:|#)/i.test(ref)) queue.push(new URL(ref, `${ORIGIN}${path}`).pathname);
      }
      // The page itself and the start-up script hold no external URL at all.
      if (path === '/docs' || path === '/docs/init.js') {
        const urls = [...body.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
        expect(urls.filter(isExternal), path).toEqual([]);
      }
      if (path === '/docs') expect(body, 'no inline script').not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    }
    expect([...seen.keys()]).toEqual(expect.arrayContaining(['/docs', '/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css', '/docs/init.js']));
    expect(seen.get('/docs/swagger-ui-bundle.js')).toMatch(/^text\/javascript/);
  });

  it('starts Swagger UI on the service own document, with no external validator', async () => {
    const h = await createHarness();
    const init = await (await h.call('GET', '/docs/init.js')).text();
    expect(init).toContain("url: '/openapi.json'");
    expect(init).toContain('validatorUrl: null');
  });

  it('serves no other file of the package', async () => {
    const h = await createHarness();
    for (const path of ['/docs/package.json', '/docs/index.html', '/docs/..%2Fpackage.json', '/docs/swagger-initializer.js']) {
      const res = await h.call('GET', path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type'), path).toBe('application/problem+json');
    }
  });
});
