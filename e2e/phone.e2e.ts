// (e) A 375×667 phone: log in, reach the pages through the menu drawer, use the tree, open a unit
// instead of the tree and come back to it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { e2e, expandNode, launchBrowser, login, openPage, screenshot, treeRow } from './helpers.ts';

const ctx = e2e();

describe.skipIf(Boolean(ctx.skip))('phone', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('(e) works at 375×667: login, menu drawer, tree, unit page', async () => {
    const { page, context, problems } = await openPage(browser, { phone: true });
    await login(page, 'street');
    const noSideways = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);

    // The side menu is folded into a drawer.
    expect(await page.getByTestId('side-menu').isVisible()).toBe(false);
    await page.getByTestId('menu-toggle').click();
    const drawer = page.getByTestId('menu-drawer');
    await drawer.getByTestId('side-menu').waitFor();
    await drawer.locator('[data-testid="menu-item"][data-path="/users"]').click();
    await page.getByTestId('users-page').waitFor();
    await expect.poll(() => drawer.isVisible()).toBe(false);
    expect(await noSideways()).toBe(true);

    await page.getByTestId('menu-toggle').click();
    await drawer.locator('[data-testid="menu-item"][data-path="/grid"]').click();
    await treeRow(page, '逢源街道').waitFor();
    await expandNode(page, '逢源街道');
    await treeRow(page, '龙津社区').waitFor();
    await expandNode(page, '龙津社区');
    await treeRow(page, '第1网格').first().waitFor();
    expect(await noSideways()).toBe(true);
    await screenshot(page, '/tmp/tongxin-grid-phone.png');

    // Tapping a unit shows its page instead of the tree…
    await treeRow(page, '龙津社区').getByTestId('tree-node-label').tap();
    await expect.poll(() => page.getByTestId('unit-name').textContent()).toBe('龙津社区');
    expect(await page.getByTestId('grid-tree-panel').isVisible()).toBe(false);
    expect(await noSideways()).toBe(true);
    await screenshot(page, '/tmp/tongxin-unit-phone.png');

    // …and "back" returns to the tree as it was left.
    await page.getByTestId('back-to-tree').tap();
    await page.getByTestId('grid-tree-panel').waitFor();
    expect(await treeRow(page, '龙津社区').locator('xpath=..').getAttribute('aria-expanded')).toBe('true');

    expect(problems).toEqual([]);
    await context.close();
  });
});
