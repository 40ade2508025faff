import { crc32, deflateSync } from "node:zlib";

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, checksum]);
}

/**
 * A small PNG drawn in code (a receipt: a pale sheet with dark lines of "text" and a blue stamp),
 * so the seeded session has an image whose pixels a browser decodes, without a file in the repository.
 */
export function receiptPng(width = 160, height = 120): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y += 1) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x += 1) {
      const line = y >= 16 && y < 96 && y % 12 < 4 && x >= 16 && x < width - 16 - (Math.floor(y / 12) % 2 === 1 ? 48 : 0);
      const stamp = (x - (width - 36)) ** 2 + (y - (height - 24)) ** 2 < 196;
      const [red, green, blue] = stamp ? [36, 84, 198] : line ? [60, 64, 72] : [250, 246, 236];
      row.set([red, green, blue], 1 + x * 3);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
