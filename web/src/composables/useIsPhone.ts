import { onBeforeUnmount, ref } from 'vue';

export const PHONE_QUERY = '(max-width: 767px)';

/** True on phone-sized screens (< 768 px), kept up to date as the window changes. */
export function useIsPhone() {
  const media = window.matchMedia(PHONE_QUERY);
  const isPhone = ref(media.matches);
  const update = (event: MediaQueryListEvent) => (isPhone.value = event.matches);
  media.addEventListener('change', update);
  onBeforeUnmount(() => media.removeEventListener('change', update));
  return isPhone;
}
