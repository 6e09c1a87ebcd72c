// Headless Chromium (Debian's `chromium` package) driven by playwright-core.

import { chromium } from 'playwright-core';

import { DemoServer } from './server.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags CI launches Chromium with. Playwright adds a fresh temporary
 * `--user-data-dir` of its own to every launch (and refuses one in `args`). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

/**
 * A fresh browser context (its own storage: another person) on the demo page, signed
 * in as `name` and connected.
 * @param {import('playwright-core').Browser} browser
 * @param {string} baseUrl
 * @param {string} name
 * @param {{width?: number, height?: number, path?: string,
 *   prepare?: (context: import('playwright-core').BrowserContext) => Promise<void>}} [options]
 *   `prepare` runs on the context before the page opens (routes must be in place before
 *   the page's scripts run).
 */
export async function signIn(browser, baseUrl, name, options = {}) {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1400, height: options.height ?? 860 },
  });
  await options.prepare?.(context);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  /** Uncaught exceptions in the page. */
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error));
  await page.goto(`${baseUrl}${options.path ?? '/'}`);
  await page.fill('#name', name);
  await page.click('#sign-in-form button');
  await page.waitForSelector('#state[data-state="connected"]');
  await settled(page);
  return page;
}

/** Waits until the page's client has joined every channel it holds. */
export async function settled(page, timeout = 10_000) {
  await page.waitForFunction(
    () => {
      const client = window.demo?.client;
      return client?.state === 'connected' && client.channels().length >= 3 && client.channels().every((c) => c.subscribed);
    },
    undefined,
    { timeout },
  );
}

/** Submits a form by filling its inputs (`{selector: value}`) and clicking its button. */
export async function submit(page, form, values) {
  for (const [selector, value] of Object.entries(values)) await page.fill(selector, value);
  await page.click(`${form} button[type="submit"]`);
}

/** Waits for an item containing `text` in the list `list`. */
export function seen(page, list, text) {
  return page.locator(`${list} li`, { hasText: text }).first().waitFor({ state: 'visible' });
}

/**
 * A demo server (started with `options`) and a Chromium to look at it: what most
 * browser suites start before their tests.
 * @param {ConstructorParameters<typeof DemoServer>[0]} [options]
 */
export async function demoInChromium(options = {}) {
  const server = await new DemoServer(options).start();
  return { server, browser: await launch() };
}

/** Stops what {@link demoInChromium} started (either may be missing after a failure). */
export async function stopDemoInChromium({ server, browser } = {}) {
  await browser?.close();
  await server?.stop();
}
