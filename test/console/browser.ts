import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { serve } from '@hono/node-server';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { type ConsoleConfig, DEFAULT_CONSOLE_CONFIG } from '../../src/config.ts';
import { createApp } from '../../src/http/app.ts';
import { createHarness, type Harness, ROOT } from '../support/harness.ts';

/** Debian's Chromium; the tests never download a browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'test-results', 'console');

/**
 * Launches Chromium. A machine without it fails the test, loudly in CI (where .ci/run installs the
 * `chromium` package): a browser test never passes without a browser.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      process.env.CI
        ? `${CHROMIUM} is missing in CI: the console's browser tests need Debian's chromium package (apt-get install chromium)`
        : `${CHROMIUM} is missing: install Debian's chromium package to run the console's browser tests`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface RunningService {
  h: Harness;
  /** http://localhost:PORT: a secure context for Chromium, so passkeys and __Host- cookies work as over https. */
  base: string;
  stop(): Promise<void>;
}

/**
 * The service on a free port of localhost, with the harness's in-memory database and test clock.
 * The issuer (and so the passkeys' relying party) is the URL the browser opens.
 */
export async function startService(opts: { console?: Partial<ConsoleConfig> } = {}): Promise<RunningService> {
  let app: Harness['app'] | undefined;
  const server = serve({ fetch: (req, env) => app!.fetch(req, env), port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
  const base = `http://localhost:${(server.address() as AddressInfo).port}`;
  const h = await createHarness({ issuer: base });
  app = opts.console ? createApp(h.deps, { ...DEFAULT_CONSOLE_CONFIG, ...opts.console }) : h.app;
  return {
    h,
    base,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A browser context for one person with a CDP virtual authenticator (CTAP2, built in, resident
 * keys, user verification that succeeds), and a log of every URL it requests.
 */
export async function personWithPasskeys(browser: Browser): Promise<{ context: BrowserContext; page: Page; requests: string[]; newDevice(): Promise<void> }> {
  const context = await browser.newContext({ locale: 'nl-NL', timezoneId: 'Europe/Amsterdam' });
  // Two cores shared with other test files: waits get room, a real hang still fails.
  context.setDefaultTimeout(60_000);
  const requests: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const add = async () =>
    (
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      })
    ).authenticatorId;
  let authenticatorId = await add();
  return {
    context,
    page,
    requests,
    /** The person moves to another device: the old authenticator (and its passkeys) is gone. */
    async newDevice() {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
      authenticatorId = await add();
    },
  };
}

/** axe-core's violations of WCAG 2.1 A and AA on the page as it stands, as readable lines. */
export async function axeViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

/** A full-page screenshot at test-results/console/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Whether the page, at a phone's 375 px, needs no horizontal scrolling; the viewport is put back after. */
export async function fitsAt375(page: Page): Promise<{ fits: boolean; scrollWidth: number }> {
  const before = page.viewportSize();
  await page.setViewportSize({ width: 375, height: 800 });
  const scrollWidth = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
  if (before) await page.setViewportSize(before);
  return { fits: scrollWidth <= 375, scrollWidth };
}

/** Presses Tab until the focused element matches the selector (keyboard only, as a person would). */
export async function tabTo(page: Page, selector: string, maxPresses = 60): Promise<void> {
  for (let i = 0; i < maxPresses; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

export interface PageCheck {
  violations: string[];
  fits: boolean;
  scrollWidth: number;
}

/**
 * Chromium and the service for one describe block (started before its tests, stopped after them),
 * with the checks every console page gets: axe, 375 px and a screenshot, kept by name.
 */
export function browserSuite(opts: { console?: Partial<ConsoleConfig> } = {}) {
  let browser: Browser | undefined;
  let service: RunningService | undefined;
  const checked: Record<string, PageCheck> = {};
  beforeAll(async () => {
    browser = await launchBrowser();
    service = await startService(opts);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  }, 60_000);
  return {
    get browser(): Browser {
      return browser!;
    },
    get service(): RunningService {
      return service!;
    },
    checked,
    /** axe, 375 px and a screenshot of the page as it stands. */
    async check(page: Page, name: string): Promise<void> {
      const violations = await axeViolations(page);
      const { fits, scrollWidth } = await fitsAt375(page);
      await screenshot(page, name);
      checked[name] = { violations, fits, scrollWidth };
    },
    /** The named pages were checked: zero axe violations, no horizontal scrolling at 375 px. */
    expectAccessible(names: string[]): void {
      for (const name of names) {
        const result = checked[name];
        expect(result, `${name} was not checked`).toBeDefined();
        expect(result!.violations, name).toEqual([]);
        expect(result!.fits, `${name} is ${result!.scrollWidth}px wide at 375`).toBe(true);
      }
    },
  };
}

/**
 * Waits until the page is at the URL (a string, or a pattern) and loaded. Polls the URL rather than
 * waiting for a navigation event, which a script's `location.assign` may finish before the wait starts.
 */
export async function arrivedAt(page: Page, url: string | RegExp, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  const at = () => (typeof url === 'string' ? page.url() === url : url.test(page.url()));
  while (!at()) {
    if (Date.now() > until) throw new Error(`the page stayed at ${page.url()}, not ${String(url)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await page.waitForLoadState('load');
}
