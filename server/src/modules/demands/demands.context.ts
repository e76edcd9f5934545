// One set of demand-loop objects per app: the routes, the Open311 API and the clock's sweep share the
// inbox bus (so a step taken anywhere reaches open pages), the routing index and the settings cache.
import path from 'node:path';
import type { AppServices } from '../../platform/module.ts';
import { DemandsService } from './demands.service.ts';
import { InboxBus, InboxRepository } from './inbox.ts';
import { MetricsService } from './metrics.service.ts';
import { PhotoStore } from './photos.ts';
import { DemandRouter } from './routing.ts';
import { DemandSettings } from './settings.service.ts';

export interface DemandsContext {
  demands: DemandsService;
  metrics: MetricsService;
  inbox: InboxRepository;
  bus: InboxBus;
  photos: PhotoStore;
  settings: DemandSettings;
  router: DemandRouter;
}

const contexts = new WeakMap<AppServices, DemandsContext>();

export function demandsContext(services: AppServices): DemandsContext {
  let c = contexts.get(services);
  if (!c) {
    const bus = new InboxBus();
    const settings = new DemandSettings(services.db);
    const router = new DemandRouter(services.db);
    c = {
      demands: new DemandsService(services.db, services.pii, services.now, bus, { settings, router }),
      metrics: new MetricsService(services.db, settings),
      inbox: new InboxRepository(services.db),
      bus,
      photos: new PhotoStore(path.resolve(services.config.dataDir)),
      settings,
      router,
    };
    contexts.set(services, c);
  }
  return c;
}
