// argon2id with the OWASP-recommended minimum (19 MiB, 2 passes); one-time passwords from the CSPRNG.
import { hash, verify } from '@node-rs/argon2';
import { randomInt } from 'node:crypto';

// 2 is Algorithm.Argon2id (a const enum, which isolated modules cannot import).
const OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const hashPassword = (password: string) => hash(password, OPTIONS);

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

// No 0/O/1/l/I so a password read aloud or copied from a printout survives.
const ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export function generatePassword(length = 16): string {
  // Redraw until lower case, upper case and digits all appear, so a generated password always passes the policy.
  for (;;) {
    let out = '';
    for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
    if (/[a-z]/.test(out) && /[A-Z]/.test(out) && /[0-9]/.test(out)) return out;
  }
}

/** Why a new password is not acceptable, or null. */
export function passwordWeakness(password: string, username: string): { 'zh-CN': string; en: string } | null {
  if (password.length < 10) return { 'zh-CN': '密码至少需要 10 个字符', en: 'Password must be at least 10 characters' };
  if (password.toLowerCase().includes(username.toLowerCase())) {
    return { 'zh-CN': '密码不能包含用户名', en: 'Password must not contain the username' };
  }
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((r) => r.test(password)).length;
  if (classes < 3) {
    return { 'zh-CN': '密码需包含大写字母、小写字母、数字、符号中的至少三类', en: 'Password must mix at least three of: lower case, upper case, digits, symbols' };
  }
  return null;
}
