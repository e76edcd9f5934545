// A Leaflet map for the demand pages: a tile layer when one is configured, otherwise a blank map (works
// offline, nothing loaded from outside) with the outlines of the user's units to find one's way.
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import type { MapSettings } from '../data';

/** Roughly the middle of China, when nothing better is known. */
const FALLBACK_VIEW: L.LatLngTuple = [34.5, 108.9];

export function createMap(el: HTMLElement, settings: MapSettings): L.Map {
  const map = L.map(el, { attributionControl: !!settings.tileUrl, zoomSnap: 0.25, minZoom: 3, maxZoom: 19 });
  if (settings.tileUrl) L.tileLayer(settings.tileUrl, { maxZoom: 19 }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  if (settings.reference.length) {
    const outlines = L.geoJSON(
      settings.reference.map((geometry) => ({ type: 'Feature' as const, properties: {}, geometry })),
      { style: { color: '#909399', weight: 1.5, dashArray: '4 4', fillColor: '#c8161d', fillOpacity: 0.04 }, interactive: false },
    ).addTo(map);
    map.fitBounds(outlines.getBounds(), { padding: [16, 16] });
  } else {
    map.setView(FALLBACK_VIEW, 4);
  }
  return map;
}

/** A marker that needs no image files (Leaflet's default icon does not survive bundling). */
export function dot(lat: number, lng: number, options: { color?: string; radius?: number } = {}): L.CircleMarker {
  return L.circleMarker([lat, lng], { radius: options.radius ?? 7, color: '#fff', weight: 2, fillColor: options.color ?? '#c8161d', fillOpacity: 0.9 });
}
