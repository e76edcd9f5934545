// Turning failures and successes into messages in the current language.
import { ElMessage, ElMessageBox } from 'element-plus';
import { ApiError } from './api/http';
import { currentLocale, i18n } from './i18n';

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.text(currentLocale.value);
  return i18n.global.t('common.unexpectedError');
}

export function showError(error: unknown) {
  // The auth handler already routes these to the login or password page.
  if (error instanceof ApiError && (error.status === 401 || error.code === 'password_change_required')) return;
  ElMessage({ type: 'error', message: errorText(error), showClose: true, duration: 6000 });
  if (!(error instanceof ApiError)) console.error(error);
}

export function showSuccess(message: string) {
  ElMessage({ type: 'success', message, duration: 2500 });
}

/** A confirmation box; resolves true when confirmed. */
export async function confirmAction(message: string, title: string, danger = true): Promise<boolean> {
  try {
    await ElMessageBox.confirm(message, title, {
      type: danger ? 'warning' : 'info',
      confirmButtonText: i18n.global.t('common.confirm'),
      cancelButtonText: i18n.global.t('common.cancel'),
      confirmButtonClass: danger ? 'el-button--danger' : undefined,
    });
    return true;
  } catch {
    return false;
  }
}

export function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
