import path from 'node:path';
import type { ModuleManifest } from '../../platform/module.ts';
import { demandsContext } from './demands.context.ts';
import { demandsRoutes } from './demands.routes.ts';
import { handlerRulesRoutes } from './handler-rules.ts';
import { foldDigests } from './inbox.ts';
import { DemandSettings } from './settings.service.ts';
import { seedDemandsDemo } from './demands.seed.ts';
import { demandsReliability } from './demands.reliability.ts';

/** How often the serving process looks for warnings, overdue cases and escalations. */
const SWEEP_EVERY_MS = 60_000;
/** The daily digest goes out at this hour, locality time. */
const DIGEST_HOUR = 8;

// 民呼我应: every demand from report to rated closure.
export const demandsModule: ModuleManifest = {
  name: 'demands',
  migrationsDir: path.join(import.meta.dirname, 'migrations'),
  permissions: ['demand.read', 'demand.report', 'demand.dispatch', 'demand.handle', 'demand.verify', 'demand.claim', 'demand.own', 'demand.config'],
  menu: [
    { path: '/demands/report', title: { 'zh-CN': '随手报', en: 'Report' }, permission: 'demand.report', icon: 'Camera', order: 30 },
    { path: '/demands/workbench', title: { 'zh-CN': '派遣工作台', en: 'Dispatch' }, permission: 'demand.dispatch', icon: 'Van', order: 31 },
    { path: '/demands/inbox', title: { 'zh-CN': '我的待办', en: 'My tasks' }, permission: 'demand.handle', icon: 'Bell', order: 32 },
    { path: '/demands/pool', title: { 'zh-CN': '党员接单', en: 'Orders to claim' }, permission: 'demand.claim', icon: 'Pointer', order: 33 },
    { path: '/demands/mine', title: { 'zh-CN': '我的诉求', en: 'My demands' }, permission: 'demand.own', icon: 'ChatLineSquare', order: 34 },
    { path: '/demands/hotline', title: { 'zh-CN': '热线受理', en: 'Hotline' }, permission: 'demand.report', icon: 'Phone', order: 35 },
    { path: '/demands/metrics', title: { 'zh-CN': '诉求指标', en: 'Demand metrics' }, permission: 'demand.read', icon: 'DataLine', order: 36 },
    { path: '/demands/settings', title: { 'zh-CN': '时限与日历', en: 'Deadlines & calendar' }, permission: 'demand.config', icon: 'Calendar', order: 85 },
  ],
  routes: async (app, services) => {
    await demandsRoutes(app, services);
    handlerRulesRoutes(app, services);
  },
  applyPreset: (trx, preset) => new DemandSettings(trx).applyPreset(trx, preset),
  seedDemo: seedDemandsDemo,
  reliability: demandsReliability,
  background: (services, log) => {
    const { demands, inbox, bus } = demandsContext(services);
    let running = false;
    let lastDigestDay = '';
    const tick = async () => {
      if (running) return;
      running = true;
      try {
        const done = await demands.sweep();
        if (done.warned || done.overdue || done.escalated || done.responseOverdue) log('demand deadlines swept', done);
        const now = services.now();
        const local = new Date(now.getTime() + 8 * 3600_000);
        const day = local.toISOString().slice(0, 10);
        if (local.getUTCHours() >= DIGEST_HOUR && day !== lastDigestDay) {
          const cutoff = new Date(Date.parse(`${day}T0${DIGEST_HOUR}:00:00+08:00`));
          const users = await foldDigests(services.db, inbox, bus, cutoff, now);
          lastDigestDay = day;
          if (users) log('daily digests sent', { users });
        }
      } catch (e) {
        log('demand sweep failed', { error: (e as Error).message });
      } finally {
        running = false;
      }
    };
    const timer = setInterval(() => void tick(), SWEEP_EVERY_MS);
    timer.unref();
    void tick();
    return { stop: () => clearInterval(timer) };
  },
  tag: { name: 'demands', description: '民呼我应: demands from report to rated closure' },
};
