/**
 * Small files of each media type TuitBot accepts, built byte by byte: what their headers say (magic
 * bytes, dimensions) is what the upload sniffs, so each carries known dimensions and some payload.
 */

const payload = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

export const fixtures = {
  /** 640×480: SOI, an APP0 (JFIF) segment, then SOF0. */
  jpeg: () =>
    Buffer.concat([
      Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]),
      Buffer.from('JFIF\0', 'latin1'),
      Buffer.from([1, 1, 0, 0, 1, 0, 1, 0, 0]),
      Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0xe0, 0x02, 0x80, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]),
      payload(300, 1),
      Buffer.from([0xff, 0xd9]),
    ]),
  /** 3×2: the signature, then IHDR. */
  png: () => {
    const ihdr = Buffer.alloc(25);
    ihdr.writeUInt32BE(13, 0);
    ihdr.write('IHDR', 4, 'latin1');
    ihdr.writeUInt32BE(3, 8);
    ihdr.writeUInt32BE(2, 12);
    ihdr[16] = 8;
    ihdr[17] = 6;
    return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr, payload(200, 2)]);
  },
  /** 300×200, extended format (VP8X). */
  webp: () => {
    const head = Buffer.alloc(30);
    head.write('RIFF', 0, 'latin1');
    head.writeUInt32LE(22 + 200, 4);
    head.write('WEBP', 8, 'latin1');
    head.write('VP8X', 12, 'latin1');
    head.writeUInt32LE(10, 16);
    head.writeUIntLE(299, 24, 3);
    head.writeUIntLE(199, 27, 3);
    return Buffer.concat([head, payload(200, 3)]);
  },
  /** 16×9. */
  gif: () => {
    const head = Buffer.alloc(13);
    head.write('GIF89a', 0, 'latin1');
    head.writeUInt16LE(16, 6);
    head.writeUInt16LE(9, 8);
    return Buffer.concat([head, payload(150, 4), Buffer.from([0x3b])]);
  },
  /** An ISO base media file with the isom brand. */
  mp4: () => {
    const ftyp = Buffer.alloc(24);
    ftyp.writeUInt32BE(24, 0);
    ftyp.write('ftypisom', 4, 'latin1');
    ftyp.writeUInt32BE(0x200, 12);
    ftyp.write('isommp41', 16, 'latin1');
    return Buffer.concat([ftyp, payload(500, 5)]);
  },
};
