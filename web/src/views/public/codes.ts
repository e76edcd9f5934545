// Tracking codes this device received, so a resident can find their reports again without an account.
const KEY = 'tongxin.trackingCodes';
const KEEP = 20;

export interface RememberedCode {
  caseNo: string;
  trackingCode: string;
  at: string;
}

export function remembered(): RememberedCode[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(parsed) ? (parsed as RememberedCode[]).filter((c) => typeof c?.trackingCode === 'string') : [];
  } catch {
    return [];
  }
}

export function remember(code: RememberedCode): RememberedCode[] {
  const list = [code, ...remembered().filter((c) => c.trackingCode !== code.trackingCode)].slice(0, KEEP);
  try {
    localStorage.setItem(KEY, JSON.stringify(list));
  } catch {
    // storage full or unavailable: the code is still on screen
  }
  return list;
}
