// One personal-data keyring per suite run, shared by the in-process apps, the seeds and the server processes
// (through TONGXIN_PII_KEYRING), so residents sealed by a seed read back everywhere.
import { KEYRING_ENV, createKeyring, createPiiCipher, keyringToEnv } from '../../server/src/platform/crypto/index.ts';

const keyring = createKeyring();
export const reliabilityPii = createPiiCipher(keyring);
export const reliabilityKeyringEnv: Record<string, string> = { [KEYRING_ENV]: keyringToEnv(keyring) };
