// The child process of the kill -9 test (import.kill.test.ts): runs one import job on the database named in
// its environment and prints a line after every committed batch, until it is killed.
//   IMPORT_DB_URL (PostgreSQL) or IMPORT_DATA_DIR (PGlite), IMPORT_JOB, IMPORT_BATCH, TONGXIN_PII_KEYRING
import { openPGlite, openPostgres } from '../../../db/connection.ts';
import { createPiiCipher, loadKeyring } from '../../../platform/crypto/index.ts';
import { runJob } from './import.engine.ts';

const handle = process.env.IMPORT_DB_URL ? openPostgres(process.env.IMPORT_DB_URL, 2) : await openPGlite(process.env.IMPORT_DATA_DIR!);
const pii = createPiiCipher(loadKeyring({ dataDir: '/nonexistent', env: process.env }).keyring);
const job = await runJob({ db: handle.db, pii, now: () => new Date(), batchRows: Number(process.env.IMPORT_BATCH ?? 20), onProgress: (p) => console.log(`committed ${p.rowsDone}`) }, Number(process.env.IMPORT_JOB));
console.log(`finished ${job.status}`);
await handle.close();
