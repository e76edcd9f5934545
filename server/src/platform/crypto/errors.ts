// Faults of the key material or of stored ciphertext. These are operator or data problems, never something a
// client sent, so they are not AppErrors (which become 4xx answers); the HTTP error handler reports them as 500
// without their details, and the CLI prints both messages.
import type { Messages } from '../errors.ts';

export type KeyringErrorCode =
  | 'keyring_missing'
  | 'keyring_invalid'
  | 'keyring_env_invalid'
  | 'keyring_file_permissions'
  | 'keyring_version';

export class KeyringError extends Error {
  constructor(
    readonly code: KeyringErrorCode,
    readonly messages: Messages,
  ) {
    super(messages.en);
    this.name = 'KeyringError';
  }
}

export type PiiErrorCode = 'pii_malformed' | 'pii_unknown_key_version' | 'pii_tampered' | 'pii_bad_field';

/** A stored value that cannot be decrypted: malformed, written under a key we do not hold, or altered. */
export class PiiError extends Error {
  constructor(
    readonly code: PiiErrorCode,
    readonly messages: Messages,
  ) {
    super(messages.en);
    this.name = 'PiiError';
  }
}
