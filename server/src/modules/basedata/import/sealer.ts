// Sealing ID and phone numbers (AES-256-GCM + HMAC per value, ~20 µs each) is the import's heaviest CPU
// work, so it can run on a pool of worker threads while the main thread parses and the database writes.
// Workers get the keyring in memory (workerData), never through a file or the environment.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Keyring } from '../../../platform/crypto/keyring.ts';
import { createPiiCipher, type PiiCipher } from '../../../platform/crypto/pii.ts';

/** Column-major sealed values; null where the input was null. */
export interface SealedColumns {
  cipher: (string | null)[];
  hash: (string | null)[];
  head: (string | null)[];
  tail: (string | null)[];
}

export interface SealRequest {
  ids: string[];
  phones: (string | null)[];
}
export interface SealResult {
  id: SealedColumns;
  phone: SealedColumns;
}

export function sealInline(pii: PiiCipher, req: SealRequest): SealResult {
  const col = (n: number): SealedColumns => ({ cipher: new Array(n), hash: new Array(n), head: new Array(n), tail: new Array(n) });
  const id = col(req.ids.length);
  const phone = col(req.phones.length);
  for (let i = 0; i < req.ids.length; i++) {
    const s = pii.seal('id_number', 'resident.id_number', req.ids[i]);
    id.cipher[i] = s.ciphertext;
    id.hash[i] = s.lookupHash;
    id.head[i] = s.head;
    id.tail[i] = s.tail;
  }
  for (let i = 0; i < req.phones.length; i++) {
    const p = req.phones[i];
    if (p === null) {
      phone.cipher[i] = phone.hash[i] = phone.head[i] = phone.tail[i] = null;
      continue;
    }
    const s = pii.seal('phone', 'resident.phone', p);
    phone.cipher[i] = s.ciphertext;
    phone.hash[i] = s.lookupHash;
    phone.head[i] = s.head;
    phone.tail[i] = s.tail;
  }
  return { id, phone };
}

export interface Sealer {
  seal(req: SealRequest): Promise<SealResult>;
  close(): Promise<void>;
  readonly workers: number;
}

/** Seals on the calling thread. */
export function inlineSealer(pii: PiiCipher): Sealer {
  return { workers: 0, seal: async (req) => sealInline(pii, req), close: async () => undefined };
}

/**
 * A pool of `size` worker threads (default: CPUs − 1, at least 1); a batch is split across them.
 * Falls back to inline sealing if a worker cannot start (e.g. no TypeScript loader in this process).
 */
export async function workerSealer(pii: PiiCipher, keyring: Keyring, size = Math.max(1, os.availableParallelism() - 1)): Promise<Sealer> {
  const url = new URL('./seal-worker-boot.mjs', import.meta.url);
  const workers: Worker[] = [];
  try {
    for (let i = 0; i < size; i++) {
      const w = new Worker(url, { workerData: { keyring } });
      await new Promise<void>((resolve, reject) => {
        w.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(String(m)))));
        w.once('error', reject);
      });
      workers.push(w);
    }
  } catch {
    await Promise.all(workers.map((w) => w.terminate()));
    return inlineSealer(pii);
  }
  let seq = 0;
  const call = (w: Worker, req: SealRequest) =>
    new Promise<SealResult>((resolve, reject) => {
      const id = ++seq;
      const onMessage = (m: { id: number; result?: SealResult; error?: string }) => {
        if (m.id !== id) return;
        w.off('message', onMessage);
        w.off('error', reject);
        if (m.error) reject(new Error(m.error));
        else resolve(m.result!);
      };
      w.on('message', onMessage);
      w.once('error', reject);
      w.postMessage({ id, req });
    });
  return {
    workers: workers.length,
    async seal(req) {
      const n = workers.length;
      const per = Math.ceil(Math.max(req.ids.length, 1) / n);
      const parts = await Promise.all(workers.map((w, k) => call(w, { ids: req.ids.slice(k * per, (k + 1) * per), phones: req.phones.slice(k * per, (k + 1) * per) })));
      const join = (pick: (r: SealResult) => SealedColumns): SealedColumns => ({
        cipher: parts.flatMap((p) => pick(p).cipher),
        hash: parts.flatMap((p) => pick(p).hash),
        head: parts.flatMap((p) => pick(p).head),
        tail: parts.flatMap((p) => pick(p).tail),
      });
      return { id: join((r) => r.id), phone: join((r) => r.phone) };
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

export { createPiiCipher };
