// Photos attached to demands ("随手拍"): stored under the data directory, accepted by what the bytes are,
// never by the file name or the declared Content-Type, which the uploader controls.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { businessDate } from '../../platform/clock.ts';
import { AppError, type Messages } from '../../platform/errors.ts';

export const PHOTO_MAX_BYTES = 8 * 1024 * 1024;
/** Decompression-bomb guard: a few KB of PNG can claim gigapixels, so this is checked from the header before decoding. */
export const PHOTO_MAX_PIXELS = 40_000_000;
const DEFAULT_THUMB_SIZE = 320;
const PHOTO_DIR = 'demand-photos';

export type PhotoFormat = 'jpeg' | 'png' | 'webp';

const EXTENSION: Record<PhotoFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp' };
const THUMB_EXTENSION = 'thumb.webp';

// The only relative paths this store ever hands out; anything else given to resolve() did not come from here.
const STORED_PATH = /^demand-photos\/\d{4}\/\d{2}\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(?:jpg|png|webp|thumb\.webp)$/;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Enough bytes to tell every accepted format apart (WebP needs 12). */
const SNIFF_BYTES = 12;

export function sniffImage(head: Buffer): PhotoFormat | null {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.length >= PNG_SIGNATURE.length && head.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) return 'png';
  if (head.length >= 12 && head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return null;
}

export interface StoredPhoto {
  id: string;
  format: PhotoFormat;
  bytes: number;
  /** As displayed, i.e. after the EXIF orientation is applied. */
  width: number;
  height: number;
  /** hex, of the stored original */
  sha256: string;
  /** relative to the data directory, '/'-separated, so a moved data directory still works */
  path: string;
  thumbPath: string;
}

/** An AppError, so the app's error handler answers it like every other error. */
export class PhotoError extends AppError {
  constructor(
    readonly status: 400 | 413 | 415,
    readonly code: string,
    readonly messages: Messages,
  ) {
    super(status, code, messages);
  }
}

const photoTooLarge = (maxBytes: number) =>
  new PhotoError(413, 'photo_too_large', {
    'zh-CN': `照片不能超过 ${formatMegabytes(maxBytes)}`,
    en: `The photo must not exceed ${formatMegabytes(maxBytes)}`,
  });
const emptyPhoto = () => new PhotoError(400, 'empty_photo', { 'zh-CN': '照片内容为空', en: 'The photo is empty' });
const unsupportedImage = () =>
  new PhotoError(415, 'unsupported_image', {
    'zh-CN': '只支持 JPEG、PNG 或 WebP 格式的完整图片',
    en: 'Only complete JPEG, PNG or WebP images are accepted',
  });
const imageTooLarge = () =>
  new PhotoError(413, 'image_too_large', {
    'zh-CN': `图片像素过多（上限 ${PHOTO_MAX_PIXELS / 1_000_000} 百万像素）`,
    en: `The image has too many pixels (at most ${PHOTO_MAX_PIXELS / 1_000_000} megapixels)`,
  });
const invalidPhotoPath = () => new PhotoError(400, 'invalid_photo_path', { 'zh-CN': '照片路径无效', en: 'Invalid photo path' });

function formatMegabytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

export interface PhotoStoreOptions {
  maxBytes?: number;
  /** longest side of the thumbnail, in pixels */
  thumbSize?: number;
}

export class PhotoStore {
  private readonly root: string;
  private readonly maxBytes: number;
  private readonly thumbSize: number;

  constructor(dataDir: string, options: PhotoStoreOptions = {}) {
    this.root = path.resolve(dataDir);
    this.maxBytes = options.maxBytes ?? PHOTO_MAX_BYTES;
    this.thumbSize = options.thumbSize ?? DEFAULT_THUMB_SIZE;
  }

  /** Stores one uploaded photo and its thumbnail. On any failure nothing stays on disk. */
  async save(body: AsyncIterable<Buffer> | NodeJS.ReadableStream): Promise<StoredPhoto> {
    const id = randomUUID();
    // Month folders in the locality's calendar, like every business date in this project.
    const [year, month] = businessDate(new Date()).split('-');
    const relDir = `${PHOTO_DIR}/${year}/${month}`;
    const relPath = `${relDir}/${id}`;
    const absDir = this.absolute(relDir);
    await mkdir(absDir, { recursive: true, mode: 0o700 });

    const partFile = this.absolute(`${relPath}.part`);
    const thumbPartFile = this.absolute(`${relPath}.${THUMB_EXTENSION}.part`);
    const thumbFile = this.absolute(`${relPath}.${THUMB_EXTENSION}`);
    let finalFile: string | null = null;
    try {
      const received = await this.receive(body, partFile);
      const format = received.format;
      const dimensions = await readDimensions(partFile, format);

      const thumbnail = await sharp(partFile, { limitInputPixels: PHOTO_MAX_PIXELS, autoOrient: true, failOn: 'warning' })
        .resize(this.thumbSize, this.thumbSize, { fit: 'inside', withoutEnlargement: true })
        // sharp writes no metadata unless asked: the thumbnail carries no EXIF, so no GPS position either.
        .webp({ quality: 80 })
        .toBuffer()
        .catch((error: unknown) => {
          throw decodeFailure(error);
        });
      await writeFile(thumbPartFile, thumbnail, { mode: 0o600, flag: 'wx' });

      finalFile = this.absolute(`${relPath}.${EXTENSION[format]}`);
      await rename(thumbPartFile, thumbFile);
      await rename(partFile, finalFile);
      return {
        id,
        format,
        bytes: received.bytes,
        width: dimensions.width,
        height: dimensions.height,
        sha256: received.sha256,
        path: `${relPath}.${EXTENSION[format]}`,
        thumbPath: `${relPath}.${THUMB_EXTENSION}`,
      };
    } catch (error) {
      const leftovers = [partFile, thumbPartFile, thumbFile, ...(finalFile ? [finalFile] : [])];
      await Promise.all(leftovers.map((file) => rm(file, { force: true })));
      throw error;
    }
  }

  /** Absolute path of a stored photo or thumbnail, for serving; refuses anything this store did not hand out. */
  resolve(relPath: string): string {
    if (!STORED_PATH.test(relPath)) throw invalidPhotoPath();
    const absolute = this.absolute(relPath);
    // Belt and braces: the pattern already excludes '..' and absolute paths.
    const inside = path.relative(path.join(this.root, PHOTO_DIR), absolute);
    if (inside.startsWith('..') || path.isAbsolute(inside)) throw invalidPhotoPath();
    return absolute;
  }

  async remove(photo: { path: string; thumbPath: string }): Promise<void> {
    const files = [this.resolve(photo.path), this.resolve(photo.thumbPath)];
    // Already gone is as good as removed: a repeated delete must not fail.
    await Promise.all(files.map((file) => rm(file, { force: true })));
  }

  private absolute(relPath: string): string {
    return path.join(this.root, ...relPath.split('/'));
  }

  /** Streams the body to `partFile`, refusing it as soon as it is too big or its first bytes are not an image. */
  private async receive(body: AsyncIterable<Buffer> | NodeJS.ReadableStream, partFile: string) {
    const file = await open(partFile, 'wx', 0o600);
    try {
      const hash = createHash('sha256');
      let head = Buffer.alloc(0);
      let format: PhotoFormat | null = null;
      let bytes = 0;
      for await (const piece of body) {
        // Text chunks only come from a stream someone set an encoding on: 'latin1' survives this, others fail to decode later.
        const chunk = typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece;
        if (chunk.length === 0) continue;
        bytes += chunk.length;
        if (bytes > this.maxBytes) throw photoTooLarge(this.maxBytes);
        if (format === null) {
          if (head.length < SNIFF_BYTES) head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES - head.length)]);
          if (head.length >= SNIFF_BYTES) {
            format = sniffImage(head);
            if (format === null) throw unsupportedImage();
          }
        }
        hash.update(chunk);
        // A write may take only part of the chunk; a short file would be a silently broken photo.
        for (let written = 0; written < chunk.length; ) written += (await file.write(chunk, written)).bytesWritten;
      }
      if (bytes === 0) throw emptyPhoto();
      // A body shorter than SNIFF_BYTES cannot be an image anyway, but gets the same answer as any other non-image.
      format ??= sniffImage(head);
      if (format === null) throw unsupportedImage();
      return { format, bytes, sha256: hash.digest('hex') };
    } finally {
      await file.close();
    }
  }
}

/** Header-only read: the pixel count is refused before anything is decoded. */
async function readDimensions(file: string, sniffed: PhotoFormat): Promise<{ width: number; height: number }> {
  let metadata: Metadata;
  try {
    // No pixel limit here, so an oversized image is told apart (413) from a broken one (415).
    metadata = await sharp(file, { limitInputPixels: false }).metadata();
  } catch {
    throw unsupportedImage();
  }
  if (metadata.format !== sniffed || !metadata.width || !metadata.height) throw unsupportedImage();
  if (metadata.width * metadata.height > PHOTO_MAX_PIXELS) throw imageTooLarge();
  return { width: metadata.autoOrient.width, height: metadata.autoOrient.height };
}

function decodeFailure(error: unknown): PhotoError {
  // Should the header lie about its size, the decoder's own limit still stops it, and that is still "too large".
  if (error instanceof Error && /pixel limit/i.test(error.message)) return imageTooLarge();
  return unsupportedImage();
}
