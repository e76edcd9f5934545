// vue-i18n set-up: zh-CN by default, the choice kept in localStorage; Element Plus follows the same locale.
import { computed } from 'vue';
import { createI18n } from 'vue-i18n';
import zhCn from 'element-plus/es/locale/lang/zh-cn';
import enEl from 'element-plus/es/locale/lang/en';
import zhCN, { type MessageSchema } from './locales/zh-CN';
import en from './locales/en';
import type { Locale, Messages } from './api/http';

const STORAGE_KEY = 'tongxin.locale';
export const LOCALES: readonly Locale[] = ['zh-CN', 'en'];

function storedLocale(): Locale {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    if (value === 'en' || value === 'zh-CN') return value;
  } catch {
    // storage unavailable (private mode): fall back to the default
  }
  return 'zh-CN';
}

export const i18n = createI18n<[MessageSchema], Locale, false>({
  legacy: false,
  locale: storedLocale(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
});

document.documentElement.lang = i18n.global.locale.value;

export function setLocale(locale: Locale) {
  i18n.global.locale.value = locale;
  document.documentElement.lang = locale;
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // not persisted; the switch still applies to this page
  }
}

export const currentLocale = computed<Locale>(() => i18n.global.locale.value);
export const elementLocale = computed(() => (currentLocale.value === 'en' ? enEl : zhCn));

/** A server-side bilingual label in the current language. */
export function label(value: Messages | null | undefined): string {
  if (!value) return '';
  return value[currentLocale.value] || value['zh-CN'];
}
