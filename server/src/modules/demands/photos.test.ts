import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PHOTO_MAX_PIXELS, PhotoError, PhotoStore, sniffImage, type StoredPhoto } from './photos.ts';

let dataDir: string;
let store: PhotoStore;

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'photos-'));
  store = new PhotoStore(dataDir);
});

afterEach(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Every file under the data directory: a refused upload must leave none, temp files included. */
function filesOnDisk(): string[] {
  return fs.readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((entry) => !entry.isDirectory()).map((entry) => entry.name);
}

/** A picture with some structure, so the encoders produce realistic data rather than one flat colour. */
function gradient(width: number, height: number): Sharp {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      pixels[offset] = (x * 255) / width;
      pixels[offset + 1] = (y * 255) / height;
      pixels[offset + 2] = ((x + y) * 7) % 256;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } });
}

/** Splits a buffer into small pieces, the way a socket delivers it. */
async function* inChunks(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}

async function expectPhotoError(promise: Promise<StoredPhoto>, status: number, code: string): Promise<void> {
  const error: unknown = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(PhotoError);
  expect((error as PhotoError).status).toBe(status);
  expect((error as PhotoError).statusCode).toBe(status);
  expect((error as PhotoError).code).toBe(code);
  expect((error as PhotoError).messages['zh-CN']).not.toBe('');
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

describe('sniffImage', () => {
  it('knows the three formats by their magic bytes and nothing else', () => {
    expect(sniffImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffImage(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]))).toBe('png');
    expect(sniffImage(Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 ', 'latin1'))).toBe('webp');
    expect(sniffImage(Buffer.from('RIFF\x10\x00\x00\x00WAVEfmt ', 'latin1'))).toBeNull();
    expect(sniffImage(Buffer.from('GIF89a......'))).toBeNull();
    expect(sniffImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
    expect(sniffImage(Buffer.from([0xff, 0xd8]))).toBeNull();
    expect(sniffImage(Buffer.alloc(0))).toBeNull();
  });
});

describe('PhotoStore.save', () => {
  it('stores a JPEG with a metadata-free, upright WebP thumbnail', async () => {
    // 64×32 as stored, but EXIF orientation 6 means it is shown rotated: 32×64.
    const jpeg = await gradient(64, 32)
      .jpeg({ quality: 90 })
      .withExif({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '39/1 54/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '116/1 23/1 0/1' } })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const source = await sharp(jpeg).metadata();
    expect(source.exif).toBeDefined();
    expect(source.orientation).toBe(6);

    const photo = await store.save(inChunks(jpeg, 1000));

    expect(photo).toMatchObject({ format: 'jpeg', bytes: jpeg.length, width: 32, height: 64, sha256: sha256(jpeg) });
    expect(photo.path).toMatch(new RegExp(`^demand-photos/\\d{4}/\\d{2}/${photo.id}\\.jpg$`));
    expect(photo.thumbPath).toBe(photo.path.replace(/\.jpg$/, '.thumb.webp'));
    expect(path.isAbsolute(photo.path)).toBe(false);

    const original = store.resolve(photo.path);
    expect(original).toBe(path.join(dataDir, ...photo.path.split('/')));
    expect(fs.readFileSync(original).equals(jpeg)).toBe(true);
    expect(mode(original)).toBe(0o600);
    expect(mode(path.dirname(original))).toBe(0o700);

    const thumbFile = store.resolve(photo.thumbPath);
    expect(mode(thumbFile)).toBe(0o600);
    const thumb = await sharp(thumbFile).metadata();
    expect(thumb.format).toBe('webp');
    expect([thumb.width, thumb.height]).toEqual([32, 64]); // small images are not enlarged
    expect(thumb.exif).toBeUndefined();
    expect(thumb.orientation).toBeUndefined();

    expect(filesOnDisk().sort()).toEqual([`${photo.id}.jpg`, `${photo.id}.thumb.webp`]);
  });

  it('stores a PNG from a Node stream and scales its thumbnail to 320 on the longest side', async () => {
    const png = await gradient(800, 600).png().toBuffer();
    // one-byte pieces first: the magic bytes arrive split across chunks
    const stream = Readable.from([png.subarray(0, 1), png.subarray(1, 2), png.subarray(2, 5), png.subarray(5)]);

    const photo = await store.save(stream);

    expect(photo).toMatchObject({ format: 'png', bytes: png.length, width: 800, height: 600, sha256: sha256(png) });
    expect(photo.path.endsWith(`${photo.id}.png`)).toBe(true);
    const thumb = await sharp(store.resolve(photo.thumbPath)).metadata();
    expect([thumb.format, thumb.width, thumb.height]).toEqual(['webp', 320, 240]);
  });

  it('stores a WebP, honouring a custom thumbnail size', async () => {
    const webp = await gradient(300, 500).webp().toBuffer();
    const photo = await new PhotoStore(dataDir, { thumbSize: 100 }).save(inChunks(webp, 4096));

    expect(photo).toMatchObject({ format: 'webp', bytes: webp.length, width: 300, height: 500, sha256: sha256(webp) });
    expect(fs.readFileSync(store.resolve(photo.path)).equals(webp)).toBe(true);
    const thumb = await sharp(store.resolve(photo.thumbPath)).metadata();
    expect([thumb.width, thumb.height]).toEqual([60, 100]);
  });

  it('judges by content: a text file named .jpg is refused with 415', async () => {
    const named = path.join(dataDir, 'holiday.jpg');
    fs.writeFileSync(named, 'This is not a picture, whatever its name says.\n'.repeat(20));

    await expectPhotoError(store.save(fs.createReadStream(named)), 415, 'unsupported_image');
    fs.rmSync(named);
    expect(filesOnDisk()).toEqual([]);
  });

  it('refuses JPEG magic bytes followed by garbage with 415 and leaves nothing on disk', async () => {
    const fake = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(5000)]);
    await expectPhotoError(store.save(inChunks(fake, 700)), 415, 'unsupported_image');
    expect(filesOnDisk()).toEqual([]);
  });

  it('refuses a JPEG cut off half-way: it must decode, not just start right', async () => {
    const jpeg = await gradient(200, 200).jpeg().toBuffer();
    await expectPhotoError(store.save(inChunks(jpeg.subarray(0, jpeg.length >> 1), 1000)), 415, 'unsupported_image');
    expect(filesOnDisk()).toEqual([]);
  });

  it('refuses a body over maxBytes with 413 without reading it to the end, and leaves nothing on disk', async () => {
    const small = new PhotoStore(dataDir, { maxBytes: 10_000 });
    const header = await gradient(16, 16).jpeg().toBuffer();
    let chunksPulled = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      yield header;
      for (;;) {
        chunksPulled++;
        yield Buffer.alloc(1000, 0x55);
      }
    }

    await expectPhotoError(small.save(endless()), 413, 'photo_too_large');
    expect(chunksPulled).toBeLessThanOrEqual(10);
    expect(filesOnDisk()).toEqual([]);
  });

  it('refuses an empty body with 400', async () => {
    await expectPhotoError(store.save(Readable.from([])), 400, 'empty_photo');
    await expectPhotoError(store.save(inChunks(Buffer.alloc(0), 10)), 400, 'empty_photo');
    expect(filesOnDisk()).toEqual([]);
  });

  it('refuses a decompression bomb from its header (413), before decoding anything', async () => {
    // A real PNG whose header is rewritten to claim 8000×6000: tiny on the wire, 48 MP once decoded.
    const png = await gradient(8, 8).png().toBuffer();
    const ihdrStart = 8 + 4; // after the signature and the chunk length
    png.writeUInt32BE(8000, ihdrStart + 4);
    png.writeUInt32BE(6000, ihdrStart + 8);
    png.writeUInt32BE(crc32(png.subarray(ihdrStart, ihdrStart + 4 + 13)), ihdrStart + 4 + 13);
    expect(8000 * 6000).toBeGreaterThan(PHOTO_MAX_PIXELS);

    await expectPhotoError(store.save(inChunks(png, 1000)), 413, 'image_too_large');
    expect(filesOnDisk()).toEqual([]);
  });
});

describe('PhotoStore.resolve and remove', () => {
  it('refuses paths it did not hand out', () => {
    const refused = [
      '../etc/passwd',
      '/etc/passwd',
      path.join(dataDir, 'demand-photos/2025/01/00000000-0000-4000-8000-000000000000.jpg'),
      'demand-photos/../../etc/passwd',
      'demand-photos/2025/01/../../../etc/passwd',
      'demand-photos\\2025\\01\\00000000-0000-4000-8000-000000000000.jpg',
      'demand-photos/2025/01/00000000-0000-4000-8000-000000000000.jpg.part',
      'demand-photos/2025/01/00000000-0000-4000-8000-000000000000.svg',
      'other/2025/01/00000000-0000-4000-8000-000000000000.jpg',
      'demand-photos/2025/01/not-a-uuid.jpg',
      '',
    ];
    for (const relPath of refused) {
      expect(() => store.resolve(relPath), relPath).toThrow(PhotoError);
    }
    expect(store.resolve('demand-photos/2025/01/00000000-0000-4000-8000-000000000000.thumb.webp')).toBe(
      path.join(dataDir, 'demand-photos', '2025', '01', '00000000-0000-4000-8000-000000000000.thumb.webp'),
    );
  });

  it('removes a photo and its thumbnail, and a second removal is harmless', async () => {
    const photo = await store.save(inChunks(await gradient(40, 30).jpeg().toBuffer(), 512));
    expect(filesOnDisk()).toHaveLength(2);

    await store.remove(photo);
    expect(filesOnDisk()).toEqual([]);
    await store.remove(photo);
    await expect(store.remove({ path: '../etc/passwd', thumbPath: photo.thumbPath })).rejects.toThrow(PhotoError);
  });

  it('keeps working when the data directory moves, since stored paths are relative', async () => {
    const photo = await store.save(inChunks(await gradient(20, 20).png().toBuffer(), 512));
    const movedDir = `${dataDir}-moved`;
    fs.renameSync(dataDir, movedDir);
    try {
      expect(fs.existsSync(new PhotoStore(movedDir).resolve(photo.path))).toBe(true);
    } finally {
      fs.renameSync(movedDir, dataDir);
    }
  });
});
