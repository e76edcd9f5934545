// Shared by the demand pages: the category dictionary (cached), labels and colours of statuses, deadlines,
// photos made ready for upload, and the map settings.
import { reactive } from 'vue';
import { publicDemandsApi, type Category, type Demand, type DemandStatus } from '@/api/demands';
import { gridApi, type Boundary } from '@/api/grid';
import { can, session } from '@/session';
import { label } from '@/i18n';

const cache = reactive({ categories: [] as Category[], loaded: false });
let loading: Promise<Category[]> | null = null;

/** The active categories (both levels), fetched once per page load. */
export function ensureCategories(): Promise<Category[]> {
  if (cache.loaded) return Promise.resolve(cache.categories);
  if (!loading) {
    loading = publicDemandsApi
      .categories()
      .then((items) => {
        cache.categories = items;
        cache.loaded = true;
        return items;
      })
      .finally(() => (loading = null));
  }
  return loading;
}

export function categories(): Category[] {
  return cache.categories;
}

export function topCategories(): Category[] {
  return cache.categories.filter((c) => !c.parentCode);
}

export function childCategories(parent: string): Category[] {
  return cache.categories.filter((c) => c.parentCode === parent);
}

/** "市容环境 / 暴露垃圾" for a sub-category, the name alone for a top-level one; the code when unknown. */
export function categoryName(code: string | null | undefined): string {
  if (!code) return '';
  const c = cache.categories.find((x) => x.code === code);
  if (!c) return code;
  const parent = c.parentCode ? cache.categories.find((x) => x.code === c.parentCode) : undefined;
  return parent ? `${label(parent.name)} / ${label(c.name)}` : label(c.name);
}

type TagType = 'primary' | 'success' | 'warning' | 'info' | 'danger';
const STATUS_TAG: Record<DemandStatus, TagType> = {
  reported: 'danger',
  registered: 'warning',
  dispatched: 'warning',
  accepted: 'primary',
  handled: 'primary',
  verified: 'success',
  closed: 'success',
  rated: 'success',
  declined: 'info',
  merged: 'info',
};
export const statusTag = (s: DemandStatus): TagType => STATUS_TAG[s] ?? 'info';

/** Overdue: marked by the clock, or the deadline of the current level passed while still open. */
export function isOverdue(d: Pick<Demand, 'overdueAt' | 'levelDueAt' | 'status'>, now = Date.now()): boolean {
  if (['closed', 'rated', 'declined', 'merged'].includes(d.status)) return false;
  return !!d.overdueAt || Date.parse(d.levelDueAt) < now;
}

/** Close to the deadline: warned by the clock. */
export function isWarned(d: Pick<Demand, 'warnedAt' | 'status'>): boolean {
  return !!d.warnedAt && !['closed', 'rated', 'declined', 'merged'].includes(d.status);
}

// ------------------------------------------------------------------ photos

const SENDABLE = ['image/jpeg', 'image/png', 'image/webp'];
/** Phone photos are large; anything bigger is scaled down to this many pixels on the long side. */
const MAX_SIDE = 2048;
const RECOMPRESS_ABOVE_BYTES = 1_500_000;

/**
 * A photo ready to send: as taken when it is small and of a type the server accepts; otherwise scaled
 * down and re-encoded as JPEG in the browser (also turns HEIC and the like into JPEG where the browser can
 * decode them). When the browser cannot, the original goes and the server says what is wrong with it.
 */
export async function preparePhoto(file: File): Promise<Blob> {
  if (SENDABLE.includes(file.type) && file.size <= RECOMPRESS_ABOVE_BYTES) return file;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85));
    return blob && blob.size < file.size ? blob : file;
  } catch {
    return file;
  }
}

// ------------------------------------------------------------------ maps

export interface MapSettings {
  /** a tile layer's URL template; none: a blank map (works offline, loads nothing from outside) */
  tileUrl: string | null;
  /** outlines to find one's way on a blank map: the units the user works in */
  reference: Boundary[];
}

let mapSettings: Promise<MapSettings> | null = null;
let mapSettingsUser: number | null = null;

/**
 * What a demand map starts from. The server does not tell the client a tile URL (TONGXIN_TILE_URL only
 * opens the CSP), so maps are blank; staff see the boundaries of the units they hold roles in.
 */
export function ensureMapSettings(): Promise<MapSettings> {
  const user = session.info?.user.id ?? null;
  if (!mapSettings || mapSettingsUser !== user) {
    mapSettingsUser = user;
    mapSettings = (async () => {
      const unitIds = [...new Set((session.info?.grants ?? []).map((g) => g.unitId))].slice(0, 4);
      const reference: Boundary[] = [];
      if (can('unit.read')) {
        for (const id of unitIds) {
          try {
            const boundary = (await gridApi.detail(id)).boundary;
            if (boundary) reference.push(boundary);
          } catch {
            // a unit without a readable boundary adds nothing
          }
        }
      }
      return { tileUrl: null, reference };
    })();
  }
  return mapSettings;
}

/** The current position from the device, or the reason there is none. */
export function devicePosition(timeoutMs = 15_000): Promise<{ lng: number; lat: number; accuracy: number }> {
  return new Promise((resolve, reject) => {
    if (!('geolocation' in navigator)) return reject(new Error('unsupported'));
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lng: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy }),
      (e) => reject(new Error(e.code === e.PERMISSION_DENIED ? 'denied' : e.code === e.TIMEOUT ? 'timeout' : 'unavailable')),
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 30_000 },
    );
  });
}
