// 民呼我应 in the browser. (A) The whole loop: a resident without an account reports on the public page
// from a phone (photo + the device's location, inside 文昌社区第1网格) and gets a tracking code; the
// community's secretary finds it in the workbench in that grid, registers it and dispatches it to the grid;
// the grid worker sees it arrive in the inbox (live), accepts and handles it; the resident confirms the fix
// on the tracking page; the secretary closes it; the resident rates it, and the tracking page shows every
// step. (B) The offline queue: a grid worker reports without network (queued, nothing on the server), the
// network returns and the report goes exactly once; and a report whose answer is lost after the server
// made the case is re-sent with the same key and still makes exactly one case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DESKTOP, PHONE, e2e, launchBrowser, login, openPage, type OpenPage } from './helpers.ts';

const ctx = e2e();

// The demo street's grids are strips of the communities' rectangles (server/src/modules/grid/grid.seed.ts):
// 文昌社区 (the first community) spans lng 113.225–113.233, lat 23.115–23.125 in five strips of 0.002°;
// its 第1网格 — the `gridworker` account's grid — is the first strip. Its centre:
const GRID_1 = { longitude: 113.229, latitude: 23.116 };

const stamp = `${Date.now().toString(36)}${ctx.runSuffix}`;

/** A small real image (the server checks photos by their content). */
const photo = (colour: string) => sharp({ create: { width: 64, height: 48, channels: 3, background: colour } }).png().toBuffer();

/** A page in a context that knows where it is (geolocation granted and set), like openPage otherwise. */
async function openLocatedPage(browser: Browser, options: { phone?: boolean } = {}): Promise<OpenPage> {
  const context = await browser.newContext({ ...(options.phone ? PHONE : DESKTOP), baseURL: ctx.baseUrl, permissions: ['geolocation'], geolocation: GRID_1 });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 500) problems.push(`HTTP ${response.status()} ${response.request().method()} ${response.url()}`);
  });
  return { context, page, problems };
}

/** Picks an option of an Element Plus select by its visible text. */
async function choose(page: Page, selectTestId: string, optionTestId: string, text: string) {
  await page.getByTestId(selectTestId).click();
  await page.locator(`[data-testid="${optionTestId}"]:visible`).filter({ hasText: text }).first().click();
}

/** Fills the report form (public or on patrol) up to, not including, sending. */
async function fillReport(page: Page, description: string, png: Buffer) {
  await page.getByTestId('report-form').waitFor();
  await page.locator('[data-testid="location-status"][data-state="set"]').waitFor({ timeout: 20_000 });
  await choose(page, 'report-category-group', 'report-category-group-option', '市容环境');
  await choose(page, 'report-category', 'report-category-option', '暴露垃圾');
  await page.locator('[data-testid="report-type"] [data-value="complaint"]').click();
  await page.getByTestId('report-description').fill(description);
  await page.getByTestId('report-photo-input').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: png });
  await page.locator('[data-testid="report-photo-input-box"][data-count="1"]').waitFor();
}

/** Demands in the caller's scope whose description is exactly `description` (through the API, as that page's session). */
function casesWith(page: Page, description: string): Promise<{ id: number; status: string }[]> {
  return page.evaluate(async (text) => {
    const response = await fetch(`/api/demands?q=${encodeURIComponent(text)}&limit=200`, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`GET /api/demands answered ${response.status}`);
    const body = (await response.json()) as { items: { id: number; status: string; description: string }[] };
    return body.items.filter((d) => d.description === text).map((d) => ({ id: d.id, status: d.status }));
  }, description);
}

async function close(...contexts: BrowserContext[]) {
  for (const c of contexts) await c.close().catch(() => undefined);
}

describe.skipIf(Boolean(ctx.skip))('demands', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('(A) the whole loop: public report with photo and location → register → dispatch → accept → handle → verify → close → rate', async () => {
    const started = Date.now();
    const description = `楼下垃圾桶满溢，臭味明显（e2e ${stamp}）`;
    const resident = await openLocatedPage(browser, { phone: true });
    const secretary = await openPage(browser);
    const worker = await openPage(browser, { phone: true });
    try {
      // ---- the resident reports without an account, from a phone
      const r = resident.page;
      await r.goto('/public/report');
      await r.getByTestId('public-report-page').waitFor();
      await fillReport(r, description, await photo('#3a7d44'));
      expect(await r.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
      await r.getByTestId('report-submit').click();
      await r.locator('[data-testid="report-result"][data-state="sent"]').waitFor({ timeout: 30_000 });
      const code = (await r.getByTestId('report-tracking-code').textContent())?.trim() ?? '';
      expect(code).toMatch(/^[A-HJ-NP-Z2-9]{10}$/);
      await r.getByTestId('report-track-link').click();
      await r.locator('[data-testid="track-status"][data-status="reported"]').waitFor();
      await expect.poll(() => r.getByTestId('track-photo').count()).toBe(1);

      // ---- the grid worker's inbox is open before anything is dispatched: the case must arrive live
      await login(worker.page, 'gridworker');
      await worker.page.goto('/demands/inbox');
      await worker.page.getByTestId('handler-inbox-page').waitFor();
      const unreadBefore = await worker.page.evaluate(async () => ((await (await fetch('/api/inbox?limit=1')).json()) as { unread: number }).unread);

      // ---- the community secretary finds it in the workbench, in 第1网格, registers and dispatches it
      const s = secretary.page;
      await login(s, 'secretary');
      await s.goto('/demands/workbench');
      await s.getByTestId('workbench-page').waitFor();
      await s.getByTestId('workbench-search').fill(description);
      await s.getByTestId('workbench-search-submit').click();
      const row = s.locator('.el-table__row').filter({ has: s.locator('[data-testid="queue-row"][data-status="reported"]') });
      await row.first().waitFor({ timeout: 20_000 });
      expect(await row.count()).toBe(1);
      expect((await row.getByTestId('queue-row-unit').textContent())?.trim()).toBe('第1网格');
      const id = Number(await row.getByTestId('queue-row').getAttribute('data-id'));
      expect(await s.getByTestId('queue-map').getAttribute('data-markers')).not.toBe('0');

      await row.getByTestId('row-register').click();
      const dialog = s.locator('[data-testid="action-dialog"][data-action="register"]');
      await dialog.waitFor();
      await dialog.getByTestId('action-submit').click();
      const registered = s.locator('.el-table__row').filter({ has: s.locator(`[data-testid="queue-row"][data-id="${id}"][data-status="registered"]`) });
      await registered.waitFor({ timeout: 20_000 });

      await registered.locator('.el-checkbox').first().click();
      await s.getByTestId('bulk-dispatch').click();
      const bulk = s.getByTestId('bulk-dialog');
      await bulk.waitFor();
      await bulk.getByTestId('bulk-handler-unit').click();
      await s.keyboard.type('C01G1');
      await s.locator('[data-testid="bulk-handler-unit-option"]:visible').filter({ hasText: 'C01G1' }).first().click();
      const dispatched = s.waitForResponse((res) => res.url().endsWith('/api/demands/bulk-dispatch') && res.request().method() === 'POST');
      await bulk.getByTestId('bulk-submit').click();
      const results = (await (await dispatched).json()) as { results: { id: number; ok: boolean }[] };
      expect(results.results).toEqual([expect.objectContaining({ id, ok: true })]);
      await s.locator(`[data-testid="queue-row"][data-id="${id}"][data-status="dispatched"]`).waitFor({ timeout: 20_000 });

      // ---- the grid worker: the case arrives in the open inbox, with the badge; accept, then handle
      const w = worker.page;
      const item = w.locator(`[data-testid="inbox-item"][data-id="${id}"]`);
      await item.waitFor({ timeout: 30_000 });
      await expect.poll(async () => Number(await w.getByTestId('notifications-badge').getAttribute('data-unread')), { timeout: 20_000 }).toBeGreaterThan(unreadBefore);
      await w.getByTestId('notifications-bell').click();
      const drawer = w.getByTestId('notifications-drawer');
      const note = drawer.locator('[data-testid="notification"][data-kind="dispatched"][data-read="false"]').first();
      await note.waitFor();
      const noteId = await note.getAttribute('data-id');
      await note.getByTestId('notification-read').click();
      await drawer.locator(`[data-testid="notification"][data-id="${noteId}"][data-read="true"]`).waitFor();
      await w.keyboard.press('Escape');
      await w.getByTestId('notifications-drawer').waitFor({ state: 'hidden' });

      await item.getByTestId('inbox-accept').click();
      const accept = w.locator('[data-testid="action-dialog"][data-action="accept"]');
      await accept.waitFor();
      await accept.getByTestId('action-submit').click();
      await w.locator(`[data-testid="inbox-item"][data-id="${id}"][data-assignment="accepted"]`).waitFor({ timeout: 20_000 });
      await item.getByTestId('inbox-handle').click();
      const handle = w.locator('[data-testid="action-dialog"][data-action="handle"]');
      await handle.waitFor();
      await handle.getByTestId('action-result').fill('已联系保洁清运，垃圾桶已清空消毒。');
      await handle.getByTestId('action-photo-input').setInputFiles({ name: 'after.png', mimeType: 'image/png', buffer: await photo('#1f6fb2') });
      await handle.locator('[data-testid="action-photo-input-box"][data-count="1"]').waitFor();
      await handle.getByTestId('action-submit').click();
      await item.waitFor({ state: 'detached', timeout: 20_000 });
      expect(await w.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);

      // ---- the resident confirms the fix on the tracking page
      await r.reload();
      await r.locator('[data-testid="track-status"][data-status="handled"]').waitFor({ timeout: 20_000 });
      await expect.poll(() => r.getByTestId('track-photo').count()).toBe(2);
      // the thumbnails really load (the resident's photo and the handler's)
      await r.getByTestId('track-photos').scrollIntoViewIfNeeded();
      await expect.poll(() => r.locator('[data-testid="track-photo"] img').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0))).toEqual([true, true]);
      await r.getByTestId('track-verify-fixed').click();
      await r.locator('[data-testid="track-status"][data-status="verified"]').waitFor({ timeout: 20_000 });

      // ---- the secretary closes it from the case page
      await s.goto(`/demands/${id}`);
      await s.locator('[data-testid="case-status"][data-status="verified"]').waitFor();
      expect(await s.getByTestId('case-unit').textContent()).toContain('第1网格');
      await s.getByTestId('action-close').click();
      const closeDialog = s.locator('[data-testid="action-dialog"][data-action="close"]');
      await closeDialog.waitFor();
      await closeDialog.getByTestId('action-submit').click();
      await s.locator('[data-testid="case-status"][data-status="closed"]').waitFor({ timeout: 20_000 });

      // ---- the resident rates it; the tracking page shows every step
      await r.reload();
      await r.getByTestId('track-rate').waitFor({ timeout: 20_000 });
      await r.locator('[data-testid="rate-rating"] [data-value="satisfied"]').click();
      await r.locator('[data-testid="rate-resolved"] [data-value="true"]').click();
      await r.getByTestId('rate-submit').click();
      await r.locator('[data-testid="track-status"][data-status="rated"]').waitFor({ timeout: 20_000 });
      const steps = await r.getByTestId('track-timeline').getByTestId('timeline-item').evaluateAll((els) => els.map((el) => el.getAttribute('data-action')));
      expect(steps.filter((a) => ['report', 'register', 'dispatch', 'accept', 'handle', 'verify', 'close', 'rate'].includes(a ?? ''))).toEqual(['report', 'register', 'dispatch', 'accept', 'handle', 'verify', 'close', 'rate']);
      const labels = await r.getByTestId('track-timeline').locator('.el-timeline-item__timestamp').allTextContents();
      expect(labels.length).toBe(steps.length);
      for (const at of labels) expect(at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      expect(await r.getByTestId('track-rating').textContent()).toContain('满意');
      // no names on the public page: the secretary's and the worker's display names appear nowhere
      const text = (await r.getByTestId('public-track-page').textContent()) ?? '';
      expect(text).not.toContain('书记');
      expect(text).not.toContain('网格员');

      expect([...resident.problems, ...secretary.problems, ...worker.problems]).toEqual([]);
      console.log(`(A) loop done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      await close(resident.context, secretary.context, worker.context);
    }
  });

  it('(B) offline queue: a report made offline waits and is sent once; a lost answer does not make a second case', async () => {
    const started = Date.now();
    const offlineText = `离线上报：巷口垃圾堆放（e2e ${stamp}）`;
    const lostText = `重发上报：绿化带垃圾（e2e ${stamp}）`;
    const worker = await openLocatedPage(browser, { phone: true });
    const checker = await openPage(browser);
    try {
      await login(checker.page, 'secretary');
      const w = worker.page;
      await login(w, 'gridworker');
      await w.goto('/demands/report');
      await w.getByTestId('demand-report-page').waitFor();
      expect(await casesWith(checker.page, offlineText)).toEqual([]);

      // ---- offline: the report is kept on the phone, photo included, and nothing reaches the server
      await fillReport(w, offlineText, await photo('#aa3300'));
      await worker.context.setOffline(true);
      await w.getByTestId('offline-tag').waitFor();
      await w.getByTestId('report-submit').click();
      await w.locator('[data-testid="report-result"][data-state="queued"]').waitFor();
      await expect.poll(() => w.getByTestId('queued-item').count()).toBe(1);
      expect(await w.getByTestId('queued-item').getAttribute('data-failed')).toBe('false');
      // the queue survives in IndexedDB (with the photo as a blob)
      const stored = await w.evaluate(
        () =>
          new Promise<{ photos: number; blob: boolean }[]>((resolve, reject) => {
            const open = indexedDB.open('tongxin-offline');
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
              const all = open.result.transaction('reports', 'readonly').objectStore('reports').getAll();
              all.onsuccess = () => resolve((all.result as { photos: { blob: Blob }[] }[]).map((i) => ({ photos: i.photos.length, blob: i.photos[0]?.blob instanceof Blob })));
              all.onerror = () => reject(all.error);
            };
          }),
      );
      expect(stored).toEqual([{ photos: 1, blob: true }]);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await casesWith(checker.page, offlineText)).toEqual([]);

      // ---- back online: the queue goes by itself, and the case exists exactly once
      await worker.context.setOffline(false);
      await expect.poll(() => w.getByTestId('queued-item').count(), { timeout: 30_000 }).toBe(0);
      await expect.poll(async () => (await casesWith(checker.page, offlineText)).length, { timeout: 15_000 }).toBe(1);
      const [offlineCase] = await casesWith(checker.page, offlineText);
      const photos = await checker.page.evaluate(async (caseId) => ((await (await fetch(`/api/demands/${caseId}`)).json()) as { photos: unknown[] }).photos.length, offlineCase.id);
      expect(photos).toBe(1);
      await w.locator('[data-testid="recent-item"]').first().waitFor();

      // ---- the server makes the case but its answer is lost: the queue keeps the report and re-sends it
      // with the same client key; the server answers with the case it already has
      const posts: number[] = [];
      let first = true;
      await w.route('**/api/demands', async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        if (first) {
          first = false;
          const answer = await route.fetch();
          posts.push(answer.status());
          return route.abort('failed');
        }
        const answer = await route.fetch();
        posts.push(answer.status());
        return route.fulfill({ response: answer });
      });
      await fillReport(w, lostText, await photo('#227722'));
      await w.getByTestId('report-submit').click();
      await w.locator('[data-testid="report-result"][data-state="queued"]').waitFor({ timeout: 20_000 });
      await expect.poll(async () => (await casesWith(checker.page, lostText)).length, { timeout: 15_000 }).toBe(1);
      // the retry timer sends it again
      await expect.poll(() => w.getByTestId('queued-item').count(), { timeout: 40_000 }).toBe(0);
      expect(posts).toEqual([201, 200]);
      expect((await casesWith(checker.page, lostText)).length).toBe(1);
      await w.unroute('**/api/demands');

      expect([...worker.problems, ...checker.problems]).toEqual([]);
      console.log(`(B) offline queue done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      await close(worker.context, checker.context);
    }
  });
});
