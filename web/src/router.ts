// Routes, and the guard that asks the server who is logged in before the first page: no session →
// login; one-time password → change-password; a page the user's permissions do not reach → not found.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import type { Permission } from '@shared/permissions';
import AppLayout from './layout/AppLayout.vue';
import { can, loadSession, session } from './session';

declare module 'vue-router' {
  interface RouteMeta {
    /** reachable without logging in */
    public?: boolean;
    /** needs this permission somewhere in the user's scope */
    permission?: Permission;
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('./views/auth/login.vue'), meta: { public: true } },
  { path: '/change-password', name: 'change-password', component: () => import('./views/auth/change-password.vue') },
  // 民呼我应 for residents without an account: report, and follow a report by its tracking code
  { path: '/public/report', name: 'public-report', component: () => import('./views/public/report.vue'), meta: { public: true } },
  { path: '/public/track/:code?', name: 'public-track', component: () => import('./views/public/track.vue'), meta: { public: true } },
  {
    path: '/',
    component: AppLayout,
    children: [
      { path: '', name: 'home', redirect: () => homePath() },
      { path: 'grid/kinds', name: 'grid-kinds', component: () => import('./views/grid/kinds.vue'), meta: { permission: 'preset.read' } },
      {
        path: 'grid',
        name: 'grid',
        component: () => import('./views/grid/list.vue'),
        meta: { permission: 'unit.read' },
        children: [{ path: 'units/:id(\\d+)', name: 'grid-unit', component: () => import('./views/grid/unit.vue'), meta: { permission: 'unit.read' } }],
      },
      { path: 'basedata/residents', name: 'residents', component: () => import('./views/basedata/residents.vue'), meta: { permission: 'resident.read' } },
      { path: 'basedata/import', name: 'resident-import', component: () => import('./views/basedata/import.vue'), meta: { permission: 'resident.import' } },
      { path: 'party/contacts', name: 'party-contacts', component: () => import('./views/basedata/contacts.vue'), meta: { permission: 'contact.read' } },
      { path: 'users', name: 'users', component: () => import('./views/users/list.vue'), meta: { permission: 'user.read' } },
      { path: 'demands/report', name: 'demand-report', component: () => import('./views/demands/report.vue'), meta: { permission: 'demand.own' } },
      { path: 'demands/workbench', name: 'demand-workbench', component: () => import('./views/demands/workbench.vue'), meta: { permission: 'demand.dispatch' } },
      { path: 'demands/inbox', name: 'demand-inbox', component: () => import('./views/demands/inbox.vue'), meta: { permission: 'demand.handle' } },
      { path: 'demands/pool', name: 'demand-pool', component: () => import('./views/demands/pool.vue'), meta: { permission: 'demand.claim' } },
      { path: 'demands/mine', name: 'demand-mine', component: () => import('./views/demands/mine.vue'), meta: { permission: 'demand.own' } },
      { path: 'demands/hotline', name: 'demand-hotline', component: () => import('./views/demands/hotline.vue'), meta: { permission: 'demand.report' } },
      { path: 'demands/metrics', name: 'demand-metrics', component: () => import('./views/demands/metrics.vue'), meta: { permission: 'demand.read' } },
      { path: 'demands/settings', name: 'demand-settings', component: () => import('./views/demands/settings.vue'), meta: { permission: 'demand.config' } },
      // the case page: who may read it is the server's answer (scope, own report, own assignment)
      { path: 'demands/:id(\\d+)', name: 'demand-case', component: () => import('./views/demands/case.vue') },
      { path: 'audit', name: 'audit', component: () => import('./views/audit/list.vue'), meta: { permission: 'audit.read' } },
      { path: ':pathMatch(.*)*', name: 'not-found', component: () => import('./views/not-found.vue') },
    ],
  },
];

export const router = createRouter({ history: createWebHistory(), routes });

/** Where a logged-in user lands: the first entry of their menu. */
export function homePath(): string {
  return session.info?.menu[0]?.path ?? '/grid';
}

router.beforeEach(async (to) => {
  if (!session.checked) {
    try {
      await loadSession();
    } catch {
      // Server unreachable: the login page says so when the user tries.
    }
  }
  const info = session.info;
  if (to.meta.public) return info && !info.user.mustChangePassword && to.name === 'login' ? homePath() : true;
  if (!info) return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} };
  if (info.user.mustChangePassword && to.name !== 'change-password') return { name: 'change-password' };
  if (to.meta.permission && !can(to.meta.permission)) return { name: 'not-found', params: { pathMatch: to.path.slice(1).split('/') } };
  return true;
});
