// The unit page's editing flows (posts, linked organisations, boundary with the server's validation
// message, rename, move, archive) and account creation with its one-time password and the forced
// password change. Works under 龙津社区/华林社区 so it does not disturb grid.e2e.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { badgeOf, e2e, expandNode, launchBrowser, login, openPage, treeRow, waitForGaps } from './helpers.ts';

const ctx = e2e();

async function pickFromSelect(page: Page, testid: string, typed: string, option: string) {
  await page.getByTestId(testid).click();
  await page.keyboard.type(typed);
  await page.locator(`[data-testid="${testid}-option"]:visible`).filter({ hasText: option }).first().click();
}

describe.skipIf(Boolean(ctx.skip))('editing', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('appoints, links, draws a boundary, renames, moves and archives a unit', async () => {
    const { page, context, problems } = await openPage(browser);
    const name = `编辑测试网格${ctx.runSuffix}`;
    await login(page, 'district');
    await expandNode(page, '荔湾区');
    await expandNode(page, '逢源街道');
    await treeRow(page, '龙津社区').getByTestId('tree-node-label').click();
    await page.getByTestId('unit-add-child').click();
    await page.getByTestId('unit-form-name').fill(name);
    await page.getByTestId('unit-form-code').fill('E2E1');
    await page.getByTestId('unit-form-submit').click();
    await expect.poll(() => page.getByTestId('unit-name').textContent()).toBe(name);
    await waitForGaps(page, name, 3);

    // Appoint a grid leader by typing a new person's name: the leader gap closes.
    await page.getByRole('tab', { name: '岗位与人员' }).click();
    await expect.poll(() => page.getByTestId('role-vacant').count()).toBe(2);
    await page.getByTestId('post-appoint').click();
    await expect.poll(() => page.getByTestId('appoint-role').textContent()).toContain('网格长');
    await page.getByTestId('appoint-person-name').fill('测试张三');
    await page.getByTestId('appoint-submit').click();
    await expect.poll(() => page.getByTestId('role-vacant').count()).toBe(1);
    await waitForGaps(page, name, 2);
    expect((await badgeOf(page, name)).missingLeader).toBe(0);

    // End the post (today): the end date shows in the record.
    await page.getByTestId('post-end').first().click();
    await page.getByTestId('end-post-submit').click();
    await expect.poll(() => page.getByTestId('posts-table').textContent()).toMatch(/测试张三.*\d{4}-\d{2}-\d{2}.*\d{4}-\d{2}-\d{2}/);

    // A linked organisation.
    await page.getByRole('tab', { name: '联建单位' }).click();
    await page.getByTestId('linked-org-add').click();
    await page.getByTestId('linked-org-name').fill('测试共建单位党支部');
    await page.getByTestId('linked-org-contact').fill('李四');
    await page.getByTestId('linked-org-submit').click();
    await expect.poll(() => page.getByTestId('linked-orgs-table').textContent()).toContain('测试共建单位党支部');

    // Boundary: not JSON → our message; outside the parent → the server's message; inside → drawn.
    await page.getByRole('tab', { name: '边界' }).click();
    await page.getByTestId('boundary-set').click();
    await page.getByTestId('boundary-json').fill('{not json');
    await page.getByTestId('boundary-submit').click();
    await expect.poll(() => page.getByTestId('boundary-dialog').getByTestId('form-error').textContent()).toContain('JSON');
    const square = (x: number, y: number) => JSON.stringify({ type: 'Polygon', coordinates: [[[x, y], [x + 0.002, y], [x + 0.002, y + 0.002], [x, y + 0.002], [x, y]]] });
    await page.getByTestId('boundary-json').fill(square(113.3, 23.2));
    await page.getByTestId('boundary-submit').click();
    await expect.poll(() => page.getByTestId('boundary-dialog').getByTestId('form-error').textContent()).toContain('龙津社区');
    await page.getByTestId('boundary-json').fill(square(113.234, 23.116));
    await page.getByTestId('boundary-submit').click();
    await page.getByTestId('boundary-map').locator('path.leaflet-interactive').waitFor();

    // Rename: the tree follows.
    await page.getByTestId('unit-rename').click();
    await page.getByTestId('unit-form-name').fill(`${name}改`);
    await page.getByTestId('unit-form-submit').click();
    await expect.poll(() => page.getByTestId('unit-name').textContent()).toBe(`${name}改`);
    await treeRow(page, `${name}改`).waitFor();

    // Move under 华林社区 (the boundary lies outside it, so the server refuses and says why).
    await page.getByTestId('unit-move').click();
    await pickFromSelect(page, 'move-target', '华林', '华林社区');
    await page.getByTestId('move-submit').click();
    await expect.poll(() => page.getByTestId('move-dialog').getByTestId('form-error').textContent()).toMatch(/边界/);
    await page.getByTestId('move-dialog').getByRole('button', { name: '取消' }).click();
    await page.getByRole('tab', { name: '边界' }).click();
    await page.getByTestId('boundary-clear').click();
    await page.locator('.el-message-box').getByRole('button', { name: '确定' }).click();
    await page.getByTestId('boundary-map').waitFor({ state: 'hidden' });
    await page.getByTestId('unit-move').click();
    await pickFromSelect(page, 'move-target', '华林', '华林社区');
    await page.getByTestId('move-submit').click();
    await expect.poll(() => page.getByTestId('unit-breadcrumb').textContent()).toContain('华林社区');
    const childrenOf = (parent: string) => treeRow(page, parent).locator('xpath=..').locator(':scope > .el-tree-node__children').getByTestId('tree-node-label');
    await expect.poll(() => childrenOf('龙津社区').filter({ hasText: `${name}改` }).count()).toBe(0);
    await expandNode(page, '华林社区');
    await childrenOf('华林社区').filter({ hasText: `${name}改` }).waitFor();

    // Archive: it leaves the tree and the parent's page opens.
    await treeRow(page, `${name}改`).getByTestId('tree-node-label').click();
    await expect.poll(() => page.getByTestId('unit-name').textContent()).toBe(`${name}改`);
    await page.getByTestId('unit-archive').click();
    await page.locator('.el-message-box').getByRole('button', { name: '确定' }).click();
    await expect.poll(() => page.getByTestId('unit-name').textContent()).toBe('华林社区');
    await expect.poll(() => treeRow(page, `${name}改`).count()).toBe(0);

    expect(problems).toEqual([]);
    await context.close();
  });

  it('creates an account, shows its one-time password once, and forces a password change', async () => {
    const admin = await openPage(browser);
    const username = `e2e.worker${ctx.runSuffix.replace('-', '')}`;
    await login(admin.page, 'district');
    await admin.page.locator('[data-testid="menu-item"][data-path="/users"]').click();
    await admin.page.getByTestId('user-create').click();
    await admin.page.getByTestId('user-form-username').fill(username);
    await admin.page.getByTestId('user-form-display-name').fill('测试网格员');
    await admin.page.getByTestId('user-form-role').click();
    await admin.page.locator('.el-select-dropdown__item:visible').filter({ hasText: /^网格员$/ }).click();
    await pickFromSelect(admin.page, 'user-form-unit', '龙津', '龙津社区');
    await admin.page.getByTestId('user-form-submit').click();
    const password = await admin.page.getByTestId('otp-value').inputValue();
    expect(password.length).toBeGreaterThanOrEqual(10);
    await admin.page.getByTestId('otp-done').click();
    await expect.poll(() => admin.page.getByTestId('users-table').textContent()).toContain(username);

    // The detail drawer lists the grant.
    await admin.page.getByTestId(`user-open-${username}`).click();
    await expect.poll(() => admin.page.getByTestId('user-grants').textContent()).toContain('龙津社区');
    // Add a second grant, then revoke it.
    await admin.page.getByTestId('grant-role').click();
    await admin.page.locator('.el-select-dropdown__item:visible').filter({ hasText: /^党员$/ }).click();
    await pickFromSelect(admin.page, 'grant-unit', '宝源', '宝源社区');
    await admin.page.getByTestId('grant-submit').click();
    const grantRow = admin.page.getByTestId('user-grants').locator('.el-table__row').filter({ hasText: '宝源社区' });
    await grantRow.waitFor();
    await grantRow.getByTestId('grant-revoke').click();
    await admin.page.locator('.el-message-box').getByRole('button', { name: '确定' }).click();
    await grantRow.waitFor({ state: 'detached' });
    expect(admin.problems).toEqual([]);
    await admin.context.close();

    // The new account must replace its one-time password before anything else.
    const user = await openPage(browser);
    await user.page.goto('/login');
    await user.page.getByTestId('login-username').fill(username);
    await user.page.getByTestId('login-password').fill(password);
    await user.page.getByTestId('login-submit').click();
    await user.page.getByTestId('password-forced').waitFor();
    await user.page.goto('/grid');
    await user.page.getByTestId('password-forced').waitFor();
    await user.page.getByTestId('password-current').fill(password);
    await user.page.getByTestId('password-new').fill('Tongxin#e2e2026');
    await user.page.getByTestId('password-confirm').fill('Tongxin#e2e2026');
    await user.page.getByTestId('password-submit').click();
    await treeRow(user.page, '龙津社区').waitFor();
    expect(user.problems).toEqual([]);
    await user.context.close();
  });
});
