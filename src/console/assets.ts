import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A file the console serves from its own origin: nothing is loaded from elsewhere. */
export interface Asset {
  body: string;
  type: string;
}

const require = createRequire(import.meta.url);
const OWN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets');

/** The WebAuthn bundle's package root (its exports map hides the bundle from require.resolve). */
function packageRoot(name: string): string {
  let dir = path.dirname(require.resolve(name));
  const isRoot = (d: string) => {
    const file = path.join(d, 'package.json');
    return fs.existsSync(file) && (JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string }).name === name;
  };
  while (!isRoot(dir)) {
    if (path.dirname(dir) === dir) throw new Error(`cannot find the package ${name}`);
    dir = path.dirname(dir);
  }
  return dir;
}

const loaded = new Map<string, Map<string, Asset>>();

/**
 * Reads the console's assets once, at startup: the Utrecht component library, a design-tokens
 * theme (the municipality's own file when configured, else Utrecht's), @simplewebauthn/browser's
 * bundle and the console's own stylesheet and script.
 */
export function loadAssets(tokensCssFile: string | null): Map<string, Asset> {
  const key = tokensCssFile ?? '';
  let assets = loaded.get(key);
  if (!assets) loaded.set(key, (assets = readAssets(tokensCssFile)));
  return assets;
}

function readAssets(tokensCssFile: string | null): Map<string, Asset> {
  const css = 'text/css; charset=utf-8';
  const js = 'text/javascript; charset=utf-8';
  const read = (file: string) => fs.readFileSync(file, 'utf8');
  return new Map<string, Asset>([
    ['utrecht.css', { body: read(require.resolve('@utrecht/component-library-css/dist/index.css')), type: css }],
    ['tokens.css', { body: read(tokensCssFile ?? require.resolve('@utrecht/design-tokens/dist/theme.css')), type: css }],
    ['console.css', { body: read(path.join(OWN, 'console.css')), type: css }],
    ['pages.css', { body: read(path.join(OWN, 'pages.css')), type: css }],
    ['webauthn.js', { body: read(path.join(packageRoot('@simplewebauthn/browser'), 'dist', 'bundle', 'index.umd.min.js')), type: js }],
    ['console.js', { body: read(path.join(OWN, 'console.js')), type: js }],
  ]);
}
