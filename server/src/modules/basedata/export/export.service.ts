// Ledger export (台账): the residents (and households and houses, when there are any) of a unit's subtree as
// a real .xlsx. De-identified by default — masked ID and phone numbers, no sensitive tags. A full export
// (plaintext numbers) needs `resident.export` at the unit and a stated purpose. Every export is audited
// (who, unit, mode, purpose, row counts) before the file leaves the server.
//
// Memory stays flat at district scale: rows are read in keyset pages and streamed into exceljs's
// WorkbookWriter, which writes each committed row to a temporary file; the route streams that file out.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type { Kysely } from 'kysely';
import type { Database } from '../../../db/types.ts';
import type { RequestContext } from '../../../platform/context.ts';
import { recordAudit } from '../../../platform/audit.ts';
import { authorizeAt, hasPermissionAt } from '../../../platform/access.ts';
import { NotFoundError, ValidationError } from '../../../platform/errors.ts';
import { businessDate } from '../../../platform/clock.ts';
import type { PiiCipher } from '../../../platform/crypto/pii.ts';
import { maskFromParts } from '../../../platform/crypto/mask.ts';
import { GridRepository } from '../../grid/grid.repository.ts';
import { ExportRepository } from './export.repository.ts';

const UNIT = { 'zh-CN': '单元', en: 'Unit' };

export const GENDER_LABELS: Record<string, string> = { male: '男', female: '女', unknown: '未知' };
export const REGISTRATION_LABELS: Record<string, string> = { registered: '户籍', non_registered: '非户籍', floating: '流动人口', overseas: '境外人员', other: '其他' };
export const TAG_LABELS: Record<string, string> = {
  elderly_alone: '独居老人',
  disabled: '残疾人',
  veteran: '退役军人',
  martyr_family: '烈军属',
  child: '儿童',
  minimum_income: '低保',
};
export const SENSITIVE_TAG_LABELS: Record<string, string> = {
  community_correction: '社区矫正',
  released_prisoner: '刑满释放',
  severe_mental_disorder: '严重精神障碍',
  petitioner: '信访',
};
const HOUSEHOLD_KIND_LABELS: Record<string, string> = { registered_family: '户籍家庭户', non_registered_family: '非户籍家庭户', business: '工商企业户', social_org: '社会组织' };
const HOUSE_USAGE_LABELS: Record<string, string> = { residential: '住宅', commercial: '商业', office: '办公', mixed: '混合', other: '其他' };

export const RESIDENT_SHEET = '居民台账';
export const HOUSEHOLD_SHEET = '户台账';
export const HOUSE_SHEET = '房屋台账';
export const NOTE_SHEET = '说明';

export const RESIDENT_HEADERS = ['居民编号', '姓名', '性别', '出生日期', '公民身份号码', '联系电话', '户籍类别', '与户主关系', '户编号', '所属单元', '地址', '特殊人群'];
const SENSITIVE_HEADER = '敏感标签';

export interface LedgerRequest {
  unitId: number;
  full: boolean;
  purpose?: string;
}

export interface LedgerFile {
  /** the .xlsx on disk; `dispose` removes it */
  file: string;
  /** download name, e.g. 居民台账-甲社区-2026-11-20.xlsx */
  filename: string;
  counts: { residents: number; households: number; houses: number };
  dispose(): Promise<void>;
}

const labels = (values: readonly string[], dict: Record<string, string>) => values.map((v) => dict[v] ?? v).join('、');

export class ExportService {
  private readonly repo: ExportRepository;
  private readonly grid: GridRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly pii: PiiCipher,
    private readonly now: () => Date,
  ) {
    this.repo = new ExportRepository(db);
    this.grid = new GridRepository(db);
  }

  async residentsLedger(ctx: RequestContext, request: LedgerRequest): Promise<LedgerFile> {
    const unit = await this.grid.unit(request.unitId);
    if (!unit) throw new NotFoundError(UNIT);
    // Seeing the unit's residents at all is resident.read (else the unit "does not exist"); plaintext is resident.export.
    authorizeAt(ctx.actor, request.full ? 'resident.export' : 'resident.read', unit.path, UNIT, 'resident.read');
    const purpose = request.purpose?.trim();
    if (request.full && (!purpose || purpose.length < 4)) {
      throw new ValidationError({ 'zh-CN': '导出明文台账须说明用途', en: 'A full export needs a stated purpose' }, { field: 'purpose' }, 'purpose_required');
    }
    const withSensitive = request.full && hasPermissionAt(ctx.actor, 'resident.sensitive', unit.path);
    const at = this.now();
    const day = businessDate(at);

    const dir = await mkdtemp(path.join(os.tmpdir(), 'tongxin-export-'));
    const file = path.join(dir, 'ledger.xlsx');
    const dispose = () => rm(dir, { recursive: true, force: true });
    try {
      // no styles (bold headers would cost ~2.5× the writing time); the header row stays frozen instead
      const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useStyles: false, useSharedStrings: false });
      workbook.creator = 'Tongxin';
      workbook.created = at;
      const counts = { residents: 0, households: 0, houses: 0 };

      // residents: always a sheet, even an empty one, so a ledger always has its columns
      const residents = workbook.addWorksheet(RESIDENT_SHEET, { views: [{ state: 'frozen', ySplit: 1 }] });
      residents.columns = [...RESIDENT_HEADERS, ...(withSensitive ? [SENSITIVE_HEADER] : [])].map((header, i) => ({ header, width: [10, 12, 6, 12, 22, 15, 10, 10, 14, 16, 30, 20, 20][i] }));
      residents.getRow(1).commit();
      for (let after = 0; ; ) {
        const page = await this.repo.residentsPage(unit.district_id, unit.path, after);
        for (const r of page) {
          const number = (field: 'id_number' | 'phone', cipher: string | null, head: string | null, tail: string | null) =>
            !cipher ? '' : request.full ? this.pii.decrypt(cipher, `resident.${field}`) : maskFromParts(field, { head: head ?? '', tail: tail ?? '' });
          const values: (string | number)[] = [
            Number(r.id),
            r.name,
            GENDER_LABELS[r.gender] ?? r.gender,
            r.birth_date ? String(r.birth_date).slice(0, 10) : '',
            number('id_number', r.id_cipher, r.id_head, r.id_last4),
            number('phone', r.phone_cipher, r.phone_head, r.phone_last4),
            REGISTRATION_LABELS[r.registration] ?? r.registration,
            r.relation_to_head ?? '',
            r.household_code ?? (r.household_id ? String(r.household_id) : ''),
            r.unit_name,
            r.address ?? '',
            labels(r.tags, TAG_LABELS),
          ];
          if (withSensitive) values.push(labels(r.sensitive_tags, SENSITIVE_TAG_LABELS));
          residents.addRow(values).commit();
          counts.residents++;
        }
        if (page.length === 0) break;
        after = Number(page[page.length - 1].id);
      }
      residents.commit();

      // households and houses: a sheet each when the subtree has any
      let households: ExcelJS.Worksheet | undefined;
      for (let after = 0; ; ) {
        const page = await this.repo.householdsPage(unit.district_id, unit.path, after);
        if (page.length && !households) {
          households = workbook.addWorksheet(HOUSEHOLD_SHEET, { views: [{ state: 'frozen', ySplit: 1 }] });
          households.columns = ['户ID', '户编号', '户名', '户类别', '户主', '人数', '所属单元', '地址'].map((header, i) => ({ header, width: [8, 14, 16, 14, 12, 6, 16, 30][i] }));
          households.getRow(1).commit();
        }
        for (const h of page) {
          households!.addRow([Number(h.id), h.code ?? '', h.name, HOUSEHOLD_KIND_LABELS[h.kind] ?? h.kind, h.head_name ?? '', Number(h.members ?? 0), h.unit_name, h.address ?? '']).commit();
          counts.households++;
        }
        if (page.length === 0) break;
        after = Number(page[page.length - 1].id);
      }
      households?.commit();

      let houses: ExcelJS.Worksheet | undefined;
      for (let after = 0; ; ) {
        const page = await this.repo.housesPage(unit.district_id, unit.path, after);
        if (page.length && !houses) {
          houses = workbook.addWorksheet(HOUSE_SHEET, { views: [{ state: 'frozen', ySplit: 1 }] });
          houses.columns = ['房屋ID', '地址', '楼栋', '单元', '房号', '专有面积(㎡)', '用途', '所属单元'].map((header, i) => ({ header, width: [8, 30, 8, 8, 8, 12, 8, 16][i] }));
          houses.getRow(1).commit();
        }
        for (const h of page) {
          houses!.addRow([Number(h.id), h.address, h.building ?? '', h.unit_no ?? '', h.room ?? '', h.exclusive_area === null ? '' : Number(h.exclusive_area), HOUSE_USAGE_LABELS[h.usage] ?? h.usage, h.unit_name]).commit();
          counts.houses++;
        }
        if (page.length === 0) break;
        after = Number(page[page.length - 1].id);
      }
      houses?.commit();

      // what this file is, so a copy found on a desk says where it came from
      const note = workbook.addWorksheet(NOTE_SHEET);
      note.columns = [{ width: 14 }, { width: 50 }];
      for (const row of [
        ['单元', unit.name],
        ['导出方式', request.full ? '明文（含完整身份证号、电话）' : '脱敏（身份证号、电话已遮蔽，不含敏感标签）'],
        ...(purpose ? [['用途', purpose]] : []),
        ['导出人', ctx.actor.username],
        ['导出时间', at.toISOString()],
        ['居民', counts.residents],
        ['户', counts.households],
        ['房屋', counts.houses],
      ]) {
        note.addRow(row).commit();
      }
      note.commit();
      await workbook.commit();

      await this.db.transaction().execute((trx) =>
        recordAudit(trx, ctx, {
          action: request.full ? 'resident.export_full' : 'resident.export',
          targetType: 'org_unit',
          targetId: unit.id,
          unit: { district_id: unit.district_id, id: unit.id, path: unit.path },
          after: { mode: request.full ? 'full' : 'deidentified', ...(purpose ? { purpose } : {}), sensitiveTags: withSensitive, rows: counts },
        }),
      );
      return { file, filename: `${RESIDENT_SHEET}-${unit.name}-${day}.xlsx`, counts, dispose };
    } catch (error) {
      await dispose();
      throw error;
    }
  }
}
