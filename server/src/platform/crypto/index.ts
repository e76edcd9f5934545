// Personal-data protection (PIPL): keyring, encryption and lookup hashes, validation, masks, key rotation.
export * from './errors.ts';
export * from './keyring.ts';
export * from './pii.ts';
export * from './id-number.ts';
export * from './phone.ts';
export * from './mask.ts';
export * from './rotate.ts';
export { runKeysCommand, KEYS_USAGE, type KeysCommandDeps } from './keys-cli.ts';
