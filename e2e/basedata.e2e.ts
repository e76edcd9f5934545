// Base data in the browser: import a real .xlsx through the wizard (upload → suggested mapping → dry run
// with its per-row errors → import with live progress → report) and find the imported residents by name,
// pinyin initials and ID number; register a resident through the form (the server's validation message
// shows under the field), reveal a number with a purpose, and export the de-identified ledger (a real .xlsx
// without a plaintext number). Works under 多宝社区 (C04) so it does not disturb the other browser tests.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import type { Browser, Page } from 'playwright-core';
import { e2e, launchBrowser, login, openPage } from './helpers.ts';

const ctx = e2e();

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/** A valid GB 11643 number: 440103 (荔湾), the birth date, a 3-digit order number, the check character. */
function idNumber(birth: string, order: number): string {
  const first17 = `440103${birth.replace(/-/g, '')}${String(order % 1000).padStart(3, '0')}`;
  const sum = WEIGHTS.reduce((acc, w, i) => acc + w * Number(first17[i]), 0);
  return first17 + '10X98765432'[sum % 11];
}
const masked = (id: string) => `${id.slice(0, 6)}********${id.slice(-4)}`;

/** Unique per run, so a run against a reused server does not hit "already registered". */
const seed = Date.now();
const day = (n: number) => String(1 + (n % 28)).padStart(2, '0');

async function pickUnit(page: Page, testid: string, code: string) {
  await page.getByTestId(testid).click();
  await page.keyboard.type(code);
  await page.locator(`[data-testid="${testid}-option"]:visible`).filter({ hasText: code }).first().click();
}

async function searchResidents(page: Page, q: string): Promise<{ names: string[]; ids: string[] }> {
  await page.getByTestId('resident-search').fill(q);
  const answered = page.waitForResponse((r) => r.url().includes('/api/residents?') && r.request().method() === 'GET');
  await page.getByTestId('resident-search-submit').click();
  await answered;
  await page.waitForTimeout(100);
  const names = await page.getByTestId('residents-table').getByTestId('resident-row-name').allTextContents();
  const ids = await page.getByTestId('residents-table').getByTestId('resident-row-id').allTextContents();
  return { names: names.map((s) => s.trim()), ids: ids.map((s) => s.trim()) };
}

/** The residents API as the logged-in page sees it (to check a dry run wrote nothing). */
async function searchResidentsViaApi(page: Page, q: string): Promise<{ name: string }[]> {
  return page.evaluate(async (query) => {
    const response = await fetch(`/api/residents?q=${encodeURIComponent(query)}`, { credentials: 'same-origin' });
    return ((await response.json()) as { items: { name: string }[] }).items;
  }, q);
}

describe.skipIf(Boolean(ctx.skip))('base data', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('registers a resident through the form and finds them by name, pinyin initials and ID number; reveals and exports', async () => {
    const { page, context, problems } = await openPage(browser);
    const name = '欧阳晓东';
    const id = idNumber(`1968-0${1 + (seed % 9)}-${day(seed)}`, seed);
    await login(page, 'street');
    await page.goto('/basedata/residents');
    await page.getByTestId('residents-page').waitFor();

    // The server's refusal (a birth date in the future, though the check digit fits) shows under the field.
    await page.getByTestId('resident-create').click();
    const form = page.getByTestId('resident-form');
    await pickUnit(page, 'resident-form-unit', 'C04G2');
    await form.getByTestId('resident-form-name').fill(name);
    await form.getByTestId('resident-form-id-number').fill(idNumber('2990-01-01', 1));
    await form.getByTestId('resident-form-submit').click();
    await expect.poll(() => form.getByTestId('form-error').textContent()).toMatch(/出生日期|身份号码/);
    await expect.poll(() => form.locator('.el-form-item__error').count()).toBeGreaterThan(0);

    // Now a real one.
    await form.getByTestId('resident-form-id-number').fill(id);
    await form.getByTestId('resident-form-phone').fill(`139${String(seed).slice(-8)}`);
    await form.getByTestId('resident-form-address').fill('多宝路88号2栋301');
    const created = page.waitForResponse((r) => r.url().endsWith('/api/residents') && r.request().method() === 'POST');
    await form.getByTestId('resident-form-submit').click();
    expect((await created).status()).toBe(201);
    await form.waitFor({ state: 'hidden' });

    // Found by name, by pinyin initials and by the full ID number; the list shows the number masked.
    expect((await searchResidents(page, name)).names).toContain(name);
    expect((await searchResidents(page, 'oyxd')).names).toContain(name);
    const byId = await searchResidents(page, id);
    expect(byId.names).toEqual([name]);
    expect(byId.ids).toEqual([masked(id)]);

    // The detail masks the number; a reveal asks for a purpose, then shows it with its expiry.
    await page.getByTestId('residents-table').getByTestId('resident-row-name').first().click();
    const drawer = page.getByTestId('resident-drawer');
    await expect.poll(() => drawer.getByTestId('resident-detail-id-number').textContent()).toBe(masked(id));
    await drawer.getByTestId('reveal-id-number').click();
    const prompt = page.locator('.reveal-prompt');
    await prompt.locator('input').fill('核实身份办理低保');
    await prompt.getByRole('button', { name: '查看明文' }).click();
    await expect.poll(() => drawer.getByTestId('resident-detail-id-number').textContent()).toBe(id);
    await expect.poll(() => drawer.getByTestId('reveal-id-number-expiry').textContent()).toMatch(/明文有效至 \d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'hidden' });

    // The de-identified ledger of the grid: a real .xlsx holding the resident, masked.
    await page.getByTestId('resident-export').click();
    const dialog = page.getByTestId('export-dialog');
    await pickUnit(page, 'export-unit', 'C04G2');
    const downloading = page.waitForEvent('download');
    await dialog.getByTestId('export-submit').click();
    const file = await downloading;
    expect(file.suggestedFilename()).toMatch(/\.xlsx$/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await readFile((await file.path())!)) as unknown as ArrayBuffer);
    const cells: string[] = [];
    wb.eachSheet((ws) => ws.eachRow((row) => row.eachCell((cell) => cells.push(String(cell.value)))));
    expect(cells).toContain(name);
    expect(cells).toContain(masked(id));
    expect(cells.join('|')).not.toContain(id);

    expect(problems).toEqual([]);
    await context.close();
  });

  it('imports an .xlsx through the wizard to completion, then finds the residents by name, pinyin initials and ID number', async () => {
    const { page, context, problems } = await openPage(browser);
    const people = [
      { name: '司马光明', initials: 'smgm', id: idNumber(`1971-0${1 + ((seed + 1) % 9)}-${day(seed + 1)}`, seed + 1), gender: '男', phone: `137${String(seed + 1).slice(-8)}` },
      { name: '诸葛文华', initials: 'zgwh', id: idNumber(`1983-1${(seed + 2) % 3}-${day(seed + 2)}`, seed + 2), gender: '', phone: '' },
      { name: '上官婉儿', initials: 'sgwe', id: idNumber(`1995-0${1 + ((seed + 3) % 9)}-${day(seed + 3)}`, seed + 3), gender: '', phone: `136${String(seed + 3).slice(-8)}` },
    ];
    const badId = people[0].id.slice(0, 17) + (people[0].id[17] === '0' ? '1' : '0');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tongxin-e2e-import-'));
    const file = path.join(dir, '多宝社区居民台账.xlsx');
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('居民');
    ws.addRow(['姓名', '公民身份号码', '性别', '联系电话', '现住址']);
    // 性别 given for one of them: it must agree with the ID number's 17th digit (odd: male)
    for (const p of people) ws.addRow([p.name, p.id, p.gender && (Number(p.id[16]) % 2 ? '男' : '女'), p.phone, '多宝路99号']);
    ws.addRow(['错号码', badId, '', '', '多宝路99号']);
    await wb.xlsx.writeFile(file);

    const eventStreams: string[] = [];
    page.on('request', (r) => {
      if (/\/api\/imports\/\d+\/events$/.test(r.url())) eventStreams.push(r.url());
    });
    try {
      await login(page, 'street');
      await page.goto('/basedata/import');
      await page.getByTestId('import-step-upload').waitFor();
      await pickUnit(page, 'import-unit', 'C04G3');
      await page.getByTestId('import-source').fill('区民政局');
      await page.getByTestId('import-file').setInputFiles(file);
      await page.getByTestId('import-upload').click();

      // The server suggests the mapping from the headers; the preview masks the numbers.
      const mapping = page.getByTestId('import-step-mapping');
      await mapping.waitFor();
      await expect.poll(() => mapping.getByTestId('mapping-row-0').textContent()).toContain('姓名');
      await expect.poll(() => mapping.getByTestId('mapping-row-1').textContent()).toContain('公民身份号码');
      expect(await mapping.textContent()).not.toContain(people[0].id);

      // Dry run: every row checked, the bad check digit reported on its row, nothing written.
      await mapping.getByTestId('import-dry-run').click();
      const dry = page.getByTestId('import-step-dry-run');
      await dry.locator('[data-testid="dry-run-counts"][data-status="done"]').waitFor({ timeout: 30_000 });
      await expect.poll(() => dry.getByTestId('dry-run-errors').textContent()).toMatch(/校验/);
      expect(await dry.getByTestId('dry-run-checked').textContent()).toBe('4');
      expect(await dry.getByTestId('dry-run-ok').textContent()).toBe('3');
      expect(await dry.getByTestId('dry-run-bad').textContent()).toBe('1');
      await expect.poll(() => dry.getByTestId('dry-run-errors').textContent()).toMatch(/4.*校验.*错号码/);
      expect((await searchResidentsViaApi(page, people[1].id)).length).toBe(0);

      // The import, skipping the bad row, with live progress, to its report.
      await dry.getByTestId('import-start').click();
      const report = page.getByTestId('import-step-report');
      await report.locator('[data-testid="import-status"][data-status="done"]').waitFor({ timeout: 60_000 });
      expect(await report.getByTestId('report-inserted').textContent()).toBe('3');
      expect(await report.getByTestId('report-bad').textContent()).toBe('1');
      await report.getByTestId('import-error-report').waitFor();
      // progress came over server-sent events (the dry run's stream and the import's)
      expect(eventStreams.length).toBeGreaterThanOrEqual(2);

      // Found in the residents list by name, pinyin initials and ID number.
      await report.getByTestId('import-to-residents').click();
      await page.getByTestId('residents-page').waitFor();
      for (const p of people) {
        expect((await searchResidents(page, p.name)).names).toContain(p.name);
        expect((await searchResidents(page, p.initials)).names).toContain(p.name);
        const byId = await searchResidents(page, p.id);
        expect(byId.names).toEqual([p.name]);
        expect(byId.ids).toEqual([masked(p.id)]);
      }
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('1+10 on a phone: coverage of a grid, its members and their households, an automatic-assignment preview, a visit logged', async () => {
    const { page, context, problems } = await openPage(browser, { phone: true });
    await login(page, 'secretary');
    await page.goto('/party/contacts');
    await pickUnit(page, 'contacts-unit', 'C01G1');
    const coverage = page.getByTestId('contacts-coverage');
    await coverage.waitFor();
    await expect.poll(async () => Number(await coverage.getByTestId('coverage-households').textContent())).toBeGreaterThan(0);
    expect(await coverage.getByTestId('coverage-linked').textContent()).toMatch(/^\d+(\.\d)?%$/);

    // the automatic assignment answers its plan before anything is written
    await page.getByTestId('contacts-auto').click();
    await expect.poll(() => page.getByTestId('auto-plan').textContent()).toMatch(/未联系住户 \d+ 户/);
    await page.getByTestId('auto-dialog').getByRole('button', { name: '取消' }).click();

    // a member's households, and a visit to one of them
    const visitsTab = page.getByRole('tab', { name: /走访记录/ });
    const before = Number(/（(\d+)）/.exec((await visitsTab.textContent()) ?? '')?.[1]);
    const members = page.getByTestId('contacts-members');
    const withHouseholds = members.locator('tr.el-table__row').filter({ has: page.locator('[data-testid="member-linked-count"]:not(:text-is("0"))') }).first();
    await withHouseholds.locator('.el-table__expand-icon').click();
    await page.getByTestId('household-visit').first().click();
    await page.getByTestId('visit-note').fill('入户了解近况，反映楼道灯不亮');
    await page.getByTestId('visit-submit').click();
    await expect.poll(async () => Number(/（(\d+)）/.exec((await visitsTab.textContent()) ?? '')?.[1])).toBe(before + 1);

    // nothing sideways on a phone: this page, the residents list and the import wizard
    const noSideways = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
    expect(await noSideways()).toBe(true);
    await page.goto('/basedata/residents');
    await page.getByTestId('residents-table').waitFor();
    expect(await noSideways()).toBe(true);
    await page.goto('/basedata/import');
    await page.getByTestId('import-step-upload').waitFor();
    expect(await noSideways()).toBe(true);

    expect(problems).toEqual([]);
    await context.close();
  });
});
