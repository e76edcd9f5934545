// (d) The language switch turns the interface (and Element Plus) to English and back, and the choice
// survives a reload.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { e2e, launchBrowser, login, openPage, treeRow } from './helpers.ts';

const ctx = e2e();

describe.skipIf(Boolean(ctx.skip))('language switch', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('(d) switches to English and back', async () => {
    const { page, context, problems } = await openPage(browser);
    await page.goto('/login');
    await expect.poll(() => page.getByTestId('login-submit').textContent()).toContain('登录');
    await page.getByTestId('lang-switch').click();
    await expect.poll(() => page.getByTestId('login-submit').textContent()).toContain('Log in');
    expect(await page.getByTestId('login-username').getAttribute('placeholder')).toBe('Username');

    await login(page, 'district');
    const gridItem = page.locator('[data-testid="menu-item"][data-path="/grid"]');
    await expect.poll(() => gridItem.textContent()).toContain('Grid');
    await treeRow(page, '荔湾区').waitFor();
    await expect.poll(() => treeRow(page, '荔湾区').textContent()).toContain('District');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');

    // The choice is remembered.
    await page.reload();
    await expect.poll(() => gridItem.textContent()).toContain('Grid');

    // Element Plus follows: the audit page's date picker placeholders are English.
    await page.locator('[data-testid="menu-item"][data-path="/audit"]').click();
    await expect.poll(() => page.getByTestId('audit-page').locator('h2').textContent()).toBe('Audit log');

    await page.getByTestId('lang-switch').click();
    await expect.poll(() => page.getByTestId('audit-page').locator('h2').textContent()).toBe('审计日志');
    await expect.poll(() => gridItem.textContent()).toContain('一张网');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await page.reload();
    await expect.poll(() => gridItem.textContent()).toContain('一张网');

    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows the server\'s own error message in the current language', async () => {
    const { page, context } = await openPage(browser);
    await page.goto('/login');
    await page.getByTestId('login-username').fill('district');
    await page.getByTestId('login-password').fill('wrong-password-1');
    await page.getByTestId('login-submit').click();
    const zh = await page.getByTestId('login-error').textContent();
    expect(zh).toMatch(/[\u4e00-\u9fff]/);
    await page.getByTestId('lang-switch').click();
    await page.getByTestId('login-password').fill('wrong-password-2');
    await page.getByTestId('login-submit').click();
    await expect.poll(() => page.getByTestId('login-error').textContent()).toMatch(/^[\x20-\x7e’]+$/);
    await context.close();
  });
});
