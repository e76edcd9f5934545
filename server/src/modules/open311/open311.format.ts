// Open311's two wire formats. JSON is the value itself; XML is the same tree with the spec's element names:
// a root per document (<services>, <service_requests>, <service_definition>, <discovery>, <errors>), one
// child element per list item (<service>, <request>, <attribute>, <value>, <endpoint>, <format>, <error>),
// text escaped, characters XML 1.0 cannot carry dropped, and the UTF-8 declaration first.

export type Format = 'json' | 'xml';
export const FORMATS: readonly Format[] = ['json', 'xml'];
export const CONTENT_TYPES: Record<Format, string> = { json: 'application/json; charset=utf-8', xml: 'text/xml; charset=utf-8' };

export type XmlValue = string | number | boolean | null | undefined | XmlValue[] | { [key: string]: XmlValue };

/** The element each list's items take, by the list's own element name. */
const ITEM_NAMES: Record<string, string> = {
  services: 'service',
  service_requests: 'request',
  attributes: 'attribute',
  values: 'value',
  endpoints: 'endpoint',
  formats: 'format',
  errors: 'error',
};

// Tab, newline, carriage return and the rest of the BMP and beyond, minus the surrogate halves and U+FFFE/FFFF.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(NOT_XML_CHAR, '').replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

function element(name: string, value: XmlValue): string {
  if (value === null || value === undefined) return `<${name}></${name}>`;
  if (Array.isArray(value)) {
    const item = ITEM_NAMES[name] ?? 'item';
    return `<${name}>${value.map((v) => element(item, v)).join('')}</${name}>`;
  }
  if (typeof value === 'object') {
    return `<${name}>${Object.entries(value)
      .map(([k, v]) => element(k, v))
      .join('')}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** A whole document: `root` is the list or object element (`services`, `service_definition`, …). */
export function toXml(root: string, value: XmlValue): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${element(root, value)}`;
}

/** The format named by a URL's `.json` / `.xml` suffix, if it names one. */
export function formatOfUrl(url: string): Format | null {
  const m = /\.([A-Za-z0-9]+)$/.exec(url.split('?')[0]);
  const f = m?.[1].toLowerCase();
  return f === 'json' || f === 'xml' ? f : null;
}

export interface Open311Error {
  code: number;
  description: string;
}

/** JSON `[{"code":403,"description":"…"}]`; XML `<errors><error><code>403</code><description>…</description></error></errors>`. */
export function renderErrors(format: Format, errors: Open311Error[]): string {
  return format === 'json' ? JSON.stringify(errors) : toXml('errors', errors.map((e) => ({ code: e.code, description: e.description })));
}
