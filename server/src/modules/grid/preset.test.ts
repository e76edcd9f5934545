import { describe, it, expect } from 'vitest';
import { kindChains, listPresetIds, loadPreset, parsePreset, presetProblems, PresetError, type Preset, type PresetUnitKind } from './preset.ts';

const PRESET_IDS = ['bengbu', 'chengzihe', 'liwan', 'luancheng', 'nanhai', 'xiangzhou'];
const GBT_30428_CLASSES = ['city_appearance', 'advertising', 'construction', 'emergency', 'street_order'];

function kindOf(preset: Preset, code: string): PresetUnitKind {
  const kind = preset.unitKinds.find((k) => k.code === code);
  if (!kind) throw new Error(`${preset.id}: no unit kind "${code}"`);
  return kind;
}
function roleCodes(preset: Preset, kindCode: string): string[] {
  return kindOf(preset, kindCode).roles.map((r) => r.code);
}
function role(preset: Preset, kindCode: string, roleCode: string) {
  const found = kindOf(preset, kindCode).roles.find((r) => r.code === roleCode);
  if (!found) throw new Error(`${preset.id}: kind "${kindCode}" has no role "${roleCode}"`);
  return found;
}
function leaderOf(preset: Preset, kindCode: string): string | undefined {
  return kindOf(preset, kindCode).roles.find((r) => r.leader)?.code;
}
function chains(preset: Preset): string[] {
  return kindChains(preset).map((c) => c.join('>'));
}
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('presets on disk', () => {
  it('lists the six locality presets', () => {
    for (const id of PRESET_IDS) expect(listPresetIds()).toContain(id);
  });

  for (const id of PRESET_IDS) {
    describe(id, () => {
      const preset = loadPreset(id);

      it('loads with no problems and names its seed sources', () => {
        expect(preset.id).toBe(id);
        expect(presetProblems(preset)).toEqual([]);
        expect(preset.sources?.length).toBeGreaterThan(0);
        for (const s of preset.sources ?? []) expect(s).toMatch(/^\d{3}_[0-9a-f]{16}\.txt$/);
      });

      it('has a governance grid kind with a required leader role and party coverage', () => {
        const grids = preset.unitKinds.filter((k) => k.isGrid);
        expect(grids.length).toBeGreaterThan(0);
        for (const g of grids) {
          const leader = g.roles.find((r) => r.leader);
          expect(leader?.required, `${g.code} leader`).toBe(true);
          expect(g.requiresPartyOrg ?? true).toBe(true);
          expect(g.partyOrgKinds?.length).toBeGreaterThan(0);
        }
      });

      it('puts the district kind on every chain', () => {
        for (const chain of kindChains(preset)) expect(chain).toContain(preset.districtKind);
      });

      it('carries the GB/T 30428 event classes with sub-categories', () => {
        const codes = (preset.demandCategories ?? []).map((c) => c.code);
        for (const c of GBT_30428_CLASSES) expect(codes).toContain(c);
        expect(new Set(codes).size).toBe(codes.length);
        for (const c of preset.demandCategories ?? []) {
          expect(c.children?.length, c.code).toBeGreaterThan(0);
          const sub = c.children!.map((s) => s.code);
          expect(new Set(sub).size, c.code).toBe(sub.length);
        }
      });

      it('has councils that sit on real kinds and use a declared vote rule', () => {
        const kinds = new Set(preset.unitKinds.map((k) => k.code));
        const rules = new Set((preset.voteRules ?? []).map((r) => r.code));
        expect(preset.councilKinds?.length).toBeGreaterThan(0);
        for (const council of preset.councilKinds ?? []) {
          expect(council.unitKinds?.length, council.code).toBeGreaterThan(0);
          for (const k of council.unitKinds ?? []) expect(kinds.has(k), `${council.code} on ${k}`).toBe(true);
          expect(rules.has(council.voteRule ?? ''), `${council.code} rule ${council.voteRule}`).toBe(true);
        }
        const party = (preset.voteRules ?? []).find((r) => r.basis === 'party_members_meeting_art11');
        expect(party).toBeDefined();
      });
    });
  }
});

describe('nanhai: 村(社区) → 经济社/住宅小区 → 户联系党小组', () => {
  const p = loadPreset('nanhai');
  it('has the town level holding both villages and communities', () => {
    expect(p.districtKind).toBe('district');
    expect(kindOf(p, 'town_street').children).toEqual(expect.arrayContaining(['village', 'community']));
    expect(kindOf(p, 'village').name['zh-CN']).toBe('村');
    expect(kindOf(p, 'economic_cooperative').name['zh-CN']).toBe('经济社');
    expect(kindOf(p, 'residential_compound').name['zh-CN']).toBe('住宅小区');
  });
  it('runs 村 → 经济社 and 社区 → 住宅小区, both down to the household-contact group', () => {
    const c = chains(p);
    expect(c).toContain('district>town_street>village>economic_cooperative>household_contact_group');
    expect(c).toContain('district>town_street>community>residential_compound>household_contact_group');
    expect(kindOf(p, 'village').children).not.toContain('residential_compound');
    expect(kindOf(p, 'household_contact_group').children).toEqual([]);
    expect(kindOf(p, 'household_contact_group').partyOrgKinds).toEqual(['group']);
  });
  it('staffs 户联系小组长, 三长制 and 驻点干部', () => {
    expect(leaderOf(p, 'household_contact_group')).toBe('group_leader');
    expect(role(p, 'household_contact_group', 'group_leader').name['zh-CN']).toBe('户联系小组长');
    expect(roleCodes(p, 'residential_compound')).toEqual(expect.arrayContaining(['building_head', 'lane_head', 'street_head']));
    expect(roleCodes(p, 'village')).toContain('stationed_cadre');
    expect(roleCodes(p, 'community')).toContain('stationed_cadre');
    expect(kindOf(p, 'economic_cooperative').isGrid).toBe(true);
    expect(kindOf(p, 'residential_compound').isGrid).toBe(true);
  });
});

describe('xiangzhou: 镇街 → 社区 → 三级网格 → 楼栋党小组', () => {
  const p = loadPreset('xiangzhou');
  it('has one chain of three grid levels down to the building group', () => {
    expect(chains(p)).toEqual(['district>town_street>community>grid>building']);
    expect(kindOf(p, 'grid').isGrid).toBe(true);
    expect(kindOf(p, 'grid').name['zh-CN']).toBe('三级网格');
    expect(kindOf(p, 'building').partyOrgKinds).toEqual(['group']);
  });
  it('puts 一长三员 in every third-level grid, all required, 网格长 leading', () => {
    const expected: Record<string, string> = {
      grid_leader: '网格长',
      info_officer: '民情信息员',
      safety_supervisor: '安全监督员',
      appearance_supervisor: '市容监督员',
    };
    for (const [code, zh] of Object.entries(expected)) {
      const r = role(p, 'grid', code);
      expect(r.name['zh-CN']).toBe(zh);
      expect(r.required).toBe(true);
    }
    expect(leaderOf(p, 'grid')).toBe('grid_leader');
    expect(roleCodes(p, 'grid')).toContain('stationed_cadre');
  });
  it('has the building → compound → community councils', () => {
    const councils = new Map((p.councilKinds ?? []).map((c) => [c.code, c.unitKinds]));
    expect(councils.get('building_council')).toEqual(['building']);
    expect(councils.get('compound_council')).toEqual(['grid']);
    expect(councils.get('community_residents_council')).toEqual(['community']);
  });
});

describe('liwan: the five-level organisation with the demo seed’s kind codes', () => {
  const p = loadPreset('liwan');
  it('has exactly the agreed kinds and chain', () => {
    expect(p.unitKinds.map((k) => k.code)).toEqual(['district', 'street', 'community', 'grid', 'building', 'responsibility_zone']);
    expect(chains(p)).toEqual(['district>street>community>grid>building>responsibility_zone']);
    expect(kindOf(p, 'street').partyOrgKinds).toEqual(['working_committee']);
    expect(kindOf(p, 'grid').isGrid).toBe(true);
    expect(kindOf(p, 'responsibility_zone').requiresPartyOrg).toBe(false);
  });
  it('has the agreed roles', () => {
    expect(roleCodes(p, 'community')).toEqual(['community_secretary', 'community_organiser']);
    expect(leaderOf(p, 'community')).toBe('community_secretary');
    expect(role(p, 'community', 'community_secretary').required).toBe(true);
    expect(roleCodes(p, 'grid')).toEqual(['grid_leader', 'grid_worker', 'stationed_cadre']);
    expect(leaderOf(p, 'grid')).toBe('grid_leader');
    expect(role(p, 'grid', 'grid_worker').required).toBe(true);
    expect(role(p, 'grid', 'stationed_cadre').required ?? false).toBe(false);
    expect(roleCodes(p, 'building')).toEqual(['building_leader']);
    expect(role(p, 'building', 'building_leader')).toMatchObject({ required: true, leader: true });
    expect(roleCodes(p, 'responsibility_zone')).toEqual(['zone_member']);
    expect(role(p, 'responsibility_zone', 'zone_member')).toMatchObject({ required: true, leader: true });
  });
  it('has 民情议事会, 玻璃屋议事厅 and 榕树下议事组', () => {
    const names = (p.councilKinds ?? []).map((c) => c.name['zh-CN']);
    expect(names).toEqual(expect.arrayContaining(['社区民情议事会', '玻璃屋议事厅', '榕树下议事组']));
  });
});

describe('luancheng: 社区 (书记) → 网格 (两委干部) → 院 (院长) → 楼栋 (楼栋长)', () => {
  const p = loadPreset('luancheng');
  it('runs community → grid → courtyard → building', () => {
    expect(chains(p)).toContain('district>community>grid>courtyard>building');
    for (const chain of kindChains(p)) expect(chain.slice(-4)).toEqual(['community', 'grid', 'courtyard', 'building']);
  });
  it('has 书记, a two-committee grid leader, full-time grid workers, 院长 and 楼栋长', () => {
    expect(leaderOf(p, 'community')).toBe('community_secretary');
    expect(leaderOf(p, 'grid')).toBe('grid_leader');
    expect(role(p, 'grid', 'grid_leader').name['zh-CN']).toContain('两委');
    expect(role(p, 'grid', 'grid_worker')).toMatchObject({ required: true, name: { 'zh-CN': '专职网格员' } });
    expect(role(p, 'courtyard', 'courtyard_head')).toMatchObject({ required: true, leader: true, name: { 'zh-CN': '院长' } });
    expect(role(p, 'building', 'building_head')).toMatchObject({ required: true, leader: true, name: { 'zh-CN': '楼栋长' } });
  });
});

describe('bengbu: 一组一会 on two chains under the town', () => {
  const p = loadPreset('bengbu');
  it('has the 市 above the 县区 district kind', () => {
    expect(p.rootKinds).toEqual(['city']);
    expect(p.districtKind).toBe('county_district');
    expect(kindOf(p, 'city').children).toEqual(['county_district']);
    expect(kindOf(p, 'county_district').children).toEqual(['town_street']);
    expect(kindOf(p, 'town_street').children).toEqual(['village', 'community']);
  });
  it('keeps the rural and urban chains separate, sharing the 乡镇/街道 prefix', () => {
    const all = kindChains(p);
    expect(all).toHaveLength(2);
    const prefix = ['city', 'county_district', 'town_street'];
    const rural = all.find((c) => c.includes('village'))!;
    const urban = all.find((c) => c.includes('community'))!;
    expect(rural).toEqual([...prefix, 'village', 'natural_village', 'contact_households']);
    expect(urban).toEqual([...prefix, 'community', 'compound', 'building']);
    expect(rural).not.toContain('community');
    expect(urban).not.toContain('village');
  });
  it('binds the right party organisations and leaders on each level', () => {
    expect(kindOf(p, 'natural_village').partyOrgKinds).toEqual(expect.arrayContaining(['branch', 'group']));
    expect(kindOf(p, 'compound').partyOrgKinds).toEqual(['branch']);
    expect(kindOf(p, 'building').partyOrgKinds).toEqual(['group']);
    expect(kindOf(p, 'contact_households').requiresPartyOrg).toBe(false);
    expect(leaderOf(p, 'natural_village')).toBe('branch_secretary');
    expect(leaderOf(p, 'compound')).toBe('branch_secretary');
    expect(leaderOf(p, 'building')).toBe('building_leader');
    expect(leaderOf(p, 'contact_households')).toBe('contact_member');
  });
  it('pairs every branch with a council (一组一会)', () => {
    const on = (kind: string) => (p.councilKinds ?? []).filter((c) => c.unitKinds?.includes(kind)).map((c) => c.name['zh-CN']);
    expect(on('natural_village')).toContain('村民理事会');
    expect(on('compound')).toContain('居民议事会');
  });
  it('has the five Bengbu demand classes and every statutory vote rule', () => {
    const codes = (p.demandCategories ?? []).map((c) => c.name['zh-CN']);
    expect(codes).toEqual(expect.arrayContaining(['志愿服务', '信访维稳', '养老护幼', '矛盾调解', '安全防护']));
    const rules = (p.voteRules ?? []).map((r) => `${r.basis}:${r.threshold ?? ''}`);
    expect(rules).toEqual(expect.arrayContaining([
      'owners_art278:special',
      'owners_art278:ordinary',
      'villagers_assembly_art22:',
      'villager_representatives_art26:',
      'party_members_meeting_art11:',
    ]));
  });
});

describe('chengzihe: 区 → 乡 → 村 → 网格', () => {
  const p = loadPreset('chengzihe');
  it('has the single village chain with the grid at the bottom', () => {
    expect(chains(p)).toEqual(['district>township>village>grid']);
    expect(kindOf(p, 'township').name['zh-CN']).toBe('乡');
    expect(kindOf(p, 'grid').isGrid).toBe(true);
    expect(leaderOf(p, 'grid')).toBe('grid_leader');
  });
  it('has the lakeside hall on the village and a deliberation point in each grid', () => {
    const councils = new Map((p.councilKinds ?? []).map((c) => [c.code, c.unitKinds]));
    expect(councils.get('lakeside_hall')).toEqual(['village']);
    expect(councils.get('grid_deliberation_point')).toEqual(['grid']);
  });
});

describe('presetProblems on broken presets', () => {
  const base = (): Preset => clone(loadPreset('liwan'));
  const expectProblem = (data: unknown, pattern: RegExp) => {
    const problems = presetProblems(data);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(pattern);
  };

  it('accepts the unchanged base', () => {
    expect(presetProblems(base())).toEqual([]);
  });

  it('reports a child kind that does not exist', () => {
    const p = base();
    kindOf(p, 'grid').children.push('courtyard');
    expectProblem(p, /child "courtyard" is not a unit kind/);
  });

  it('reports a kind no root reaches', () => {
    const p = base();
    p.unitKinds.push({ code: 'orphan', name: { 'zh-CN': '孤立', en: 'Orphan' }, children: [], roles: [] });
    expectProblem(p, /"orphan" cannot be reached/);
  });

  it('reports a districtKind that is not a kind', () => {
    const p = base();
    p.districtKind = 'county';
    expectProblem(p, /districtKind "county" is not a unit kind/);
  });

  it('reports a root kind that is not a kind', () => {
    const p = base();
    p.rootKinds = ['city'];
    expectProblem(p, /rootKinds: "city" is not a unit kind/);
  });

  it('reports an unknown field', () => {
    const p = base() as Preset & { extra?: unknown };
    p.extra = true;
    expectProblem(p, /additional properties/);
    const q = base();
    (kindOf(q, 'grid') as PresetUnitKind & { colour?: string }).colour = 'red';
    expectProblem(q, /\/unitKinds\/3 .*additional properties/);
  });

  it('reports a duplicate role code', () => {
    const p = base();
    const grid = kindOf(p, 'grid');
    grid.roles.push(clone(grid.roles[1]!));
    expectProblem(p, /role "grid_worker" appears twice/);
  });

  it('reports two leader roles on one kind', () => {
    const p = base();
    role(p, 'grid', 'grid_worker').leader = true;
    expectProblem(p, /"grid" has more than one leader role/);
  });

  it('reports duplicate kind codes, bad codes and unknown party-organisation kinds', () => {
    const dup = base();
    dup.unitKinds.push(clone(kindOf(dup, 'building')));
    expectProblem(dup, /unit kind codes must be unique/);
    const badCode = base();
    kindOf(badCode, 'grid').code = 'Grid';
    expectProblem(badCode, /must match pattern/);
    const badParty = base();
    (kindOf(badParty, 'grid').partyOrgKinds as string[]).push('cell');
    expectProblem(badParty, /must be equal to one of the allowed values/);
  });

  it('makes parsePreset throw a PresetError naming the problem', () => {
    const p = base();
    p.districtKind = 'county';
    expect(() => parsePreset(JSON.stringify(p), 'test')).toThrow(PresetError);
    expect(() => parsePreset('{', 'test')).toThrow(/not valid JSON/);
  });

  it('refuses an unknown preset id', () => {
    expect(() => loadPreset('atlantis')).toThrow(PresetError);
    expect(() => loadPreset('../presets/liwan')).toThrow(PresetError);
  });
});
