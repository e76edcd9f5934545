// The grid in a desktop browser: the tree with coverage badges (a), creating a grid and binding its
// party branch with the badges following (b), the audit log showing those writes (f), and a grid
// worker's narrow, read-only view (c). One file, so (f) runs after (b).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { badgeOf, e2e, expandNode, launchBrowser, login, openPage, screenshot, treeLabels, treeRow, waitForGaps } from './helpers.ts';

const ctx = e2e();
if (ctx.skip) console.warn(`!! NOTICE: browser tests skipped: ${ctx.skip}`);

describe.skipIf(Boolean(ctx.skip))('grid, desktop', () => {
  let browser: Browser;
  const gridName = `测试网格${ctx.runSuffix}`;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('(a) a district admin sees 荔湾区 → 逢源街道 → its communities, each with a coverage badge', async () => {
    const { page, context, problems } = await openPage(browser);
    await login(page, 'district');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/grid');
    await treeRow(page, '荔湾区').waitFor();
    await expandNode(page, '荔湾区');
    await expandNode(page, '逢源街道');

    const streetNode = treeRow(page, '逢源街道').locator('xpath=..');
    const communities = streetNode.locator('.el-tree-node__children [data-testid="tree-node"]');
    await expect.poll(() => communities.count()).toBe(10);
    const names = await streetNode.locator('.el-tree-node__children [data-testid="tree-node-label"]').allTextContents();
    expect(names).toContain('文昌社区');
    expect(names.every((n) => n.endsWith('社区'))).toBe(true);
    expect(await streetNode.locator('.el-tree-node__children [data-testid="coverage-badge"]').count()).toBe(10);

    // The street has no gaps of its own, so its badge is the sum of its communities' badges.
    const street = await badgeOf(page, '逢源街道');
    let sum = 0;
    for (const name of names) sum += (await badgeOf(page, name)).gaps;
    expect(street.gaps).toBeGreaterThan(0);
    expect(sum).toBe(street.gaps);
    expect((await badgeOf(page, '荔湾区')).gaps).toBe(street.gaps);

    // The tooltip explains the number.
    await treeRow(page, '逢源街道').getByTestId('coverage-badge').hover();
    await expect.poll(() => page.locator('.el-popper:visible').last().textContent()).toMatch(/缺党组织：\d+/);

    await screenshot(page, '/tmp/tongxin-grid-desktop.png');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('(b) creating a grid under 文昌社区 shows its gaps; binding a 党支部 lowers the badges', async () => {
    const { page, context, problems } = await openPage(browser);
    await login(page, 'district');
    await expandNode(page, '荔湾区');
    await expandNode(page, '逢源街道');
    const before = await badgeOf(page, '文昌社区');

    await treeRow(page, '文昌社区').getByTestId('tree-node-label').click();
    await expect.poll(() => page.getByTestId('unit-name').textContent()).toBe('文昌社区');
    await page.getByTestId('unit-add-child').click();
    const form = page.getByTestId('unit-form');
    await expect.poll(() => form.getByTestId('unit-form-kind').textContent()).toContain('网格');
    await page.getByTestId('unit-form-name').fill(gridName);
    await page.getByTestId('unit-form-submit').click();

    // The new grid's page opens and the grid appears in the tree under 文昌社区.
    await expect.poll(() => page.getByTestId('unit-name').textContent()).toBe(gridName);
    expect(new URL(page.url()).pathname).toMatch(/^\/grid\/units\/\d+$/);
    const communityNode = treeRow(page, '文昌社区').locator('xpath=..');
    await communityNode.locator('.el-tree-node__children').getByTestId('tree-node-label').filter({ hasText: gridName }).waitFor();

    // No party organisation, no grid leader, no grid worker: three gaps in one unit.
    await waitForGaps(page, gridName, 3);
    expect(await badgeOf(page, gridName)).toEqual({ gaps: 3, missingPartyOrg: 1, missingLeader: 1, missingRole: 1, unitsWithGaps: 1 });
    await waitForGaps(page, '文昌社区', before.gaps + 3);
    expect((await badgeOf(page, '文昌社区')).unitsWithGaps).toBe(before.unitsWithGaps + 1);

    // Bind a party branch on the unit page.
    await page.getByTestId('party-org-missing').waitFor();
    await page.getByTestId('party-org-bind').click();
    await page.getByTestId('party-org-kind-branch').click();
    await expect.poll(() => page.getByTestId('party-org-name-input').inputValue()).toBe(`${gridName}党支部`);
    await page.getByTestId('party-org-submit').click();
    await expect.poll(() => page.getByTestId('party-org-name').textContent()).toBe(`${gridName}党支部`);
    await expect.poll(() => page.getByTestId('party-org-kind').textContent()).toBe('党支部');

    await waitForGaps(page, gridName, 2);
    expect(await badgeOf(page, gridName)).toEqual({ gaps: 2, missingPartyOrg: 0, missingLeader: 1, missingRole: 1, unitsWithGaps: 1 });
    await waitForGaps(page, '文昌社区', before.gaps + 2);
    await waitForGaps(page, '逢源街道', (await badgeOf(page, '荔湾区')).gaps);

    expect(problems).toEqual([]);
    await context.close();
  });

  it('(f) the auditor finds the writes of (b) in the audit log, with before/after', async () => {
    const { page, context, problems } = await openPage(browser);
    await login(page, 'auditor');
    await page.locator('[data-testid="menu-item"][data-path="/audit"]').click();
    await page.getByTestId('audit-page').waitFor();
    await page.getByTestId('audit-actor').fill('district');
    await page.getByTestId('audit-search').click();

    // Newest first: the party branch was bound after the grid was created.
    const actions = page.getByTestId('audit-table').getByTestId('audit-row-action');
    const listed = () => actions.evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
    await expect.poll(listed).toContain('unit.create');
    const order = await listed();
    expect(order).toContain('party_org.create');
    expect(order.indexOf('party_org.create')).toBeLessThan(order.indexOf('unit.create'));

    // Expand the unit.create row: its "after" holds the new grid.
    const row = page.locator('.el-table__row').filter({ has: page.locator('[data-action="unit.create"]') }).first();
    await row.locator('.el-table__expand-icon').click();
    await expect.poll(() => page.getByTestId('audit-diff').first().textContent()).toContain(gridName);

    expect(problems).toEqual([]);
    await context.close();
  });

  it('(c) a grid worker sees only their grid, read-only', async () => {
    const { page, context, problems } = await openPage(browser);
    await login(page, 'gridworker');
    await treeRow(page, '第1网格').waitFor();
    await expandNode(page, '第1网格');

    const labels = await treeLabels(page).allTextContents();
    expect(labels[0]).toBe('第1网格');
    expect(labels.some((l) => l.endsWith('社区') || l.endsWith('街道') || l === '荔湾区')).toBe(false);
    expect(labels.filter((l) => l === '第1网格')).toHaveLength(1);
    expect(labels.some((l) => l.endsWith('号楼'))).toBe(true);

    // The menu has no users or audit entries.
    const menu = await page.getByTestId('menu-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-path')));
    expect(menu).toContain('/grid');
    expect(menu).not.toContain('/users');
    expect(menu).not.toContain('/audit');

    await treeRow(page, '第1网格').getByTestId('tree-node-label').click();
    await expect.poll(() => page.getByTestId('unit-name').textContent()).toBe('第1网格');
    await page.getByTestId('party-org-panel').waitFor();
    for (const id of ['unit-add-child', 'unit-rename', 'unit-move', 'unit-archive', 'party-org-edit', 'party-org-dissolve', 'party-org-bind']) {
      expect(await page.getByTestId(id).count(), id).toBe(0);
    }
    await page.getByRole('tab', { name: '岗位与人员' }).click();
    await page.getByTestId('posts-panel').waitFor();
    expect(await page.getByTestId('post-appoint').count()).toBe(0);
    expect(await page.getByTestId('post-end').count()).toBe(0);
    await page.getByRole('tab', { name: '联建单位' }).click();
    expect(await page.getByTestId('linked-org-add').count()).toBe(0);

    // A unit outside the scope does not exist for them.
    await page.goto('/grid/units/2');
    await page.getByTestId('unit-error').waitFor();

    expect(problems).toEqual([]);
    await context.close();
  });
});
