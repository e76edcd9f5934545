// Shared steps of the browser tests: launch Chromium, open pages, log in, find tree nodes and badges.
import { expect, inject } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import type { E2EContext } from './context.ts';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const PHONE = { viewport: { width: 375, height: 667 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
export const DESKTOP = { viewport: { width: 1440, height: 900 } };

export function e2e(): E2EContext {
  return inject('e2e');
}

/** A fresh browser; playwright gives every launch its own temporary user data directory. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: e2e().chromiumPath, args: CHROMIUM_ARGS });
}

export interface OpenPage {
  context: BrowserContext;
  page: Page;
  /** page errors, console errors and 5xx answers seen so far (a clean run has none) */
  problems: string[];
}

export async function openPage(browser: Browser, options: { phone?: boolean } = {}): Promise<OpenPage> {
  const context = await browser.newContext({ ...(options.phone ? PHONE : DESKTOP), baseURL: e2e().baseUrl });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // 4xx answers the tests provoke on purpose show up as "Failed to load resource"; server errors are caught below.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 500) problems.push(`HTTP ${response.status()} ${response.request().method()} ${response.url()}`);
  });
  return { context, page, problems };
}

export function passwordOf(username: string): string {
  const login = e2e().logins.find((l) => l.username === username);
  if (!login) throw new Error(`no demo login "${username}"`);
  return login.password;
}

export async function login(page: Page, username: string) {
  await page.goto('/login');
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(passwordOf(username));
  await page.getByTestId('login-submit').click();
  await page.getByTestId('user-menu-button').waitFor();
}

const exact = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

/** The row of a tree node (its own line, not its children), found by the unit's exact name. */
export function treeRow(page: Page, name: string): Locator {
  return page.locator('.el-tree-node__content').filter({ has: page.getByTestId('tree-node-label').filter({ hasText: exact(name) }) });
}

export function treeLabels(page: Page): Locator {
  return page.getByTestId('unit-tree').getByTestId('tree-node-label');
}

/**
 * Expands a tree node (no-op when already expanded) and waits until its children are shown. The tree
 * expands a single root by itself right after loading, which can race a click; so check and retry.
 */
export async function expandNode(page: Page, name: string) {
  const row = treeRow(page, name);
  await row.waitFor();
  const node = row.locator('xpath=..');
  // Expanded, children loaded, and the expand animation (an inline height while it runs) finished.
  const open = () =>
    node.evaluate((el) => {
      const box = el.querySelector<HTMLElement>(':scope > .el-tree-node__children');
      return el.getAttribute('aria-expanded') === 'true' && !!box && box.style.height === '' && getComputedStyle(box).display !== 'none' && box.querySelector('[data-testid="tree-node"]') !== null;
    });
  for (let attempt = 1; attempt <= 4; attempt++) {
    await page.waitForTimeout(200); // let a pending render settle before reading the state
    if (await open()) return;
    if ((await node.getAttribute('aria-expanded')) !== 'true') await row.locator('.el-tree-node__expand-icon').click();
    try {
      await expect.poll(open, { timeout: 5_000 }).toBe(true);
      await page.waitForTimeout(200);
      if (await open()) return;
    } catch {
      // toggled by a concurrent auto-expand: look again
    }
  }
  throw new Error(`could not expand tree node "${name}"`);
}

export interface Badge {
  gaps: number;
  missingPartyOrg: number;
  missingLeader: number;
  missingRole: number;
  unitsWithGaps: number;
}

export async function badgeOf(page: Page, name: string): Promise<Badge> {
  const badge = treeRow(page, name).getByTestId('coverage-badge');
  await badge.waitFor();
  const read = async (attribute: string) => Number(await badge.getAttribute(attribute));
  return {
    gaps: await read('data-gaps'),
    missingPartyOrg: await read('data-missing-party-org'),
    missingLeader: await read('data-missing-leader'),
    missingRole: await read('data-missing-role'),
    unitsWithGaps: await read('data-units-with-gaps'),
  };
}

/** Waits until a node's badge shows `gaps` (badges refresh asynchronously after a write). */
export async function waitForGaps(page: Page, name: string, gaps: number) {
  await treeRow(page, name).locator(`[data-testid="coverage-badge"][data-gaps="${gaps}"]`).waitFor({ timeout: 15_000 });
}

export async function screenshot(page: Page, file: string) {
  await page.screenshot({ path: file, fullPage: false });
}
