// The demo street's demands for `npm start`: a month of cases reported in the grids of the first communities,
// each taken through the real loop (register, dispatch, accept, handle, verify, close, rate) as far as its
// story goes, on a clock that walks through the month — so the queue, the inbox, the tracking page and the
// metrics all have something true to show. Deterministic: the same seed gives the same cases.
import type { DemoSeedContext } from '../../platform/module.ts';
import { systemContext, publicContext } from '../../platform/context.ts';
import { DemandsService } from './demands.service.ts';
import { InboxBus } from './inbox.ts';
import type { DemandType } from './demand.states.ts';

const STORIES: { category: string; type: DemandType; title: string; description: string; reach: number }[] = [
  { category: 'exposed_garbage', type: 'complaint', title: '楼下垃圾堆放', description: '3号楼下垃圾桶旁堆了很多垃圾，两天没人清理，有异味。', reach: 8 },
  { category: 'illegal_structure', type: 'report', title: '天台私搭乱建', description: '顶楼住户在天台搭建铁皮房。', reach: 6 },
  { category: 'unclean_road', type: 'complaint', title: '巷口路面污渍', description: '巷口路面有大片油污，雨天很滑。', reach: 8 },
  { category: 'abandoned_vehicle', type: 'report', title: '僵尸车占用车位', description: '小区门口一辆无牌车停放超过半年。', reach: 5 },
  { category: 'untidy_green_space', type: 'suggestion', title: '绿地杂草丛生', description: '小广场绿地杂草很高，建议修剪。', reach: 8 },
  { category: 'exposed_garbage', type: 'help', title: '大件垃圾无法搬运', description: '家中老人无力搬运旧家具，请求帮助。', reach: 7 },
  { category: 'unclean_road', type: 'complaint', title: '道路积水', description: '下雨后路口积水没过脚踝。', reach: 4 },
  { category: 'illegal_structure', type: 'complaint', title: '一楼违建阻挡通道', description: '一楼商户搭建雨棚占用消防通道。', reach: 3 },
  { category: 'exposed_garbage', type: 'consult', title: '垃圾分类投放时间', description: '想了解本小区垃圾分类定时投放的时间。', reach: 8 },
  { category: 'untidy_green_space', type: 'complaint', title: '树枝遮挡路灯', description: '路灯被树枝遮挡，晚上很暗。', reach: 2 },
];
const DAY = 24 * 3600 * 1000;

export async function seedDemandsDemo(ctx: DemoSeedContext) {
  const communities = ctx.data.communities as { id: number; name: string; grids: number[] }[];
  const grids = new Map((ctx.data.grids as { id: number; name: string; box: { coordinates: number[][][] } }[]).map((g) => [g.id, g]));
  const categories = new Set((await ctx.trx.selectFrom('demand_category').select('code').execute()).map((c) => c.code));
  let clock = new Date(ctx.services.now().getTime() - 30 * DAY);
  const service = new DemandsService(ctx.trx, ctx.services.pii, () => clock, new InboxBus());
  const staff = systemContext('demo-seed');
  const n = Math.min(40, communities.length * 8);
  for (let i = 0; i < n; i++) {
    const story = STORIES[i % STORIES.length];
    if (!categories.has(story.category)) continue;
    const community = communities[i % Math.min(3, communities.length)];
    const gridId = community.grids[i % community.grids.length];
    const ring = grids.get(gridId)!.box.coordinates[0];
    const lngs = ring.map((p) => p[0]);
    const lats = ring.map((p) => p[1]);
    const lng = Math.min(...lngs) + (Math.max(...lngs) - Math.min(...lngs)) * (0.2 + 0.6 * ctx.rng.next());
    const lat = Math.min(...lats) + (Math.max(...lats) - Math.min(...lats)) * (0.2 + 0.6 * ctx.rng.next());
    clock = new Date(clock.getTime() + Math.floor((28 * DAY) / n));
    const byResident = i % 3 !== 0;
    const { demand } = await service.report(byResident ? publicContext('public', null) : staff, {
      channel: byResident ? 'resident' : 'patrol',
      type: story.type,
      category: story.category,
      title: story.title,
      description: story.description,
      lng,
      lat,
      reporterName: byResident ? `居民${i + 1}` : undefined,
      reporterPhone: byResident ? `1380013${String(8000 + i).padStart(4, '0')}` : undefined,
    });
    // the last cases of the month are still on their way; earlier ones went further
    const reach = i >= n - 6 ? i % 4 : story.reach;
    const later = (hours: number) => (clock = new Date(clock.getTime() + hours * 3600_000));
    const id = demand.id;
    if (reach >= 1) (later(1), await service.register(staff, id, {}));
    if (reach >= 2) (later(1), await service.dispatch(staff, id, { handler: { type: 'unit', unitId: gridId } }));
    if (reach >= 3) (later(1), await service.accept(staff, id));
    if (reach >= 4) (later(20), await service.handle(staff, id, { result: '已现场处置，并拍照留存。' }));
    if (reach >= 5) (later(2), await service.verify(staff, id, { fixed: i % 7 !== 4, note: i % 7 === 4 ? '仍未清理干净' : '现场核查已解决' }));
    if (reach >= 5 && i % 7 === 4) {
      later(4);
      await service.handle(staff, id, { result: '返工后已清理干净。' });
      later(1);
      await service.verify(staff, id, { fixed: true, note: '复核通过' });
    }
    if (reach >= 6) (later(1), await service.close(staff, id, { resolved: true }));
    if (reach >= 8 && byResident) (later(3), await service.rate(publicContext('public', null), 0, { rating: i % 9 === 5 ? 'basically_satisfied' : 'satisfied', resolved: true }, demand.tracking_code));
  }
}
