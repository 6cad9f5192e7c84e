import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.ts';

/**
 * /docs: Swagger UI from the `swagger-ui-dist` package, served by the service itself, so that it
 * works on a network without internet and runs no script from elsewhere. The page has no inline
 * script (the start-up code is /docs/init.js) and a Content-Security-Policy that names no other
 * origin. Swagger UI sets inline styles, hence `style-src 'unsafe-inline'` (styles only, own origin).
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Betrokken API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// validatorUrl: null, or Swagger UI asks an external validator for a badge.
const INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
  });
});
`;

/** The package's files /docs serves, with their content types; nothing else of it is reachable. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui.css.map': 'application/json',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

const distDir = () => path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

export function docsRoutes(app: OpenAPIHono<AppEnv>): void {
  // Read on first request, not at import time; the files do not change while the service runs.
  const cache = new Map<string, Promise<Buffer>>();
  const asset = (name: string) => {
    let file = cache.get(name);
    if (!file) {
      file = readFile(path.join(distDir(), name));
      file.catch(() => cache.delete(name));
      cache.set(name, file);
    }
    return file;
  };
  const docsHeaders = (contentType: string, maxAge: number) => ({
    'Content-Type': contentType,
    'Content-Security-Policy': DOCS_CONTENT_SECURITY_POLICY,
    // No personal data here: the page and its assets may be cached.
    'Cache-Control': `public, max-age=${maxAge}`,
  });

  app.get('/docs', (c) => c.body(PAGE, 200, docsHeaders('text/html; charset=utf-8', 300)));
  app.get('/docs/init.js', (c) => c.body(INIT, 200, docsHeaders('text/javascript; charset=utf-8', 300)));
  app.get('/docs/:asset', async (c, next) => {
    const name = c.req.param('asset');
    const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!type) return next();
    return c.body(new Uint8Array(await asset(name)), 200, docsHeaders(type, 86_400));
  });
}
