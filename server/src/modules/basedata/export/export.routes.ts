// Ledger export routes: GET is the de-identified ledger anyone who reads the residents may take; POST with
// `full: true` and a purpose is the plaintext one (resident.export). The file is built on disk, audited,
// then streamed out and removed.
import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ctxOf, Obj } from '../../../platform/http.ts';
import type { AppServices } from '../../../platform/module.ts';
import { ExportService, type LedgerFile } from './export.service.ts';

export const XLSX_MIME = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const Id = Type.Integer({ minimum: 1, maximum: 9007199254740991 });
export const ExportQuery = Obj({ unitId: Id });
export const FullExportBody = Obj({
  unitId: Id,
  full: Type.Boolean({ description: 'true: plaintext ID and phone numbers (needs resident.export); false: de-identified' }),
  purpose: Type.String({ minLength: 4, maxLength: 200, pattern: '\\S', description: 'why the ledger is needed; kept in the audit log' }),
});

function send(reply: FastifyReply, ledger: LedgerFile) {
  const stream = createReadStream(ledger.file);
  stream.on('close', () => void ledger.dispose());
  const ascii = ledger.filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return reply
    .header('content-type', XLSX_MIME)
    .header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(ledger.filename)}`)
    .header('cache-control', 'no-store')
    .header('x-export-rows', String(ledger.counts.residents))
    .send(stream);
}

export function exportRoutes(base: FastifyInstance, services: AppServices) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const ledgers = new ExportService(services.db, services.pii, services.now);
  const tags = ['basedata'];

  app.get('/residents/export', { schema: { tags, summary: "The residents' ledger (.xlsx) of a unit's subtree, de-identified: masked numbers, no sensitive tags (audited)", querystring: ExportQuery } }, async (req, reply) =>
    send(reply, await ledgers.residentsLedger(ctxOf(req), { unitId: req.query.unitId, full: false })),
  );
  app.post('/residents/export', { schema: { tags, summary: "The residents' ledger (.xlsx) with plaintext ID and phone numbers, for a stated purpose (resident.export, audited)", body: FullExportBody } }, async (req, reply) =>
    send(reply, await ledgers.residentsLedger(ctxOf(req), { unitId: req.body.unitId, full: req.body.full, purpose: req.body.purpose })),
  );
}
