// A sealing worker (see sealer.ts): receives batches of normalised ID and phone numbers, answers their
// sealed columns. The keyring arrives in workerData; nothing is logged.
import { parentPort, workerData } from 'node:worker_threads';
import { createPiiCipher } from '../../../platform/crypto/pii.ts';
import type { Keyring } from '../../../platform/crypto/keyring.ts';
import { sealInline, type SealRequest } from './sealer.ts';

const raw = (workerData as { keyring: Keyring }).keyring;
// Buffers arrive as Uint8Arrays after the structured clone.
const keyring: Keyring = {
  current: raw.current,
  versions: raw.versions.map((v) => ({ ...v, encryptionKey: Buffer.from(v.encryptionKey), lookupKey: Buffer.from(v.lookupKey) })),
};
const pii = createPiiCipher(keyring);
parentPort!.on('message', (m: { id: number; req: SealRequest }) => {
  try {
    parentPort!.postMessage({ id: m.id, result: sealInline(pii, m.req) });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: err instanceof Error ? err.message : 'seal failed' });
  }
});
parentPort!.postMessage('ready');
