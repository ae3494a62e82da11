import { SshWireFormatError } from './errors/ssh-wire-format-error';

/** SSH wire encoding (RFC 4251 section 5): the data types certificates, keys and KRLs are made of. */

const UINT64_MAX = (1n << 64n) - 1n;

/** Appends SSH wire fields to a growing buffer. */
export class SshWireWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(initialCapacity = 512) {
    this.buffer = Buffer.allocUnsafe(initialCapacity);
  }

  uint8(value: number): this {
    this.reserve(1);
    this.buffer[this.length++] = value & 0xff;
    return this;
  }

  uint32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`uint32 out of range: ${value}`);
    }
    this.reserve(4);
    this.buffer.writeUInt32BE(value, this.length);
    this.length += 4;
    return this;
  }

  uint64(value: bigint): this {
    if (value < 0n || value > UINT64_MAX) throw new RangeError(`uint64 out of range: ${value}`);
    this.reserve(8);
    this.buffer.writeBigUInt64BE(value, this.length);
    this.length += 8;
    return this;
  }

  /** A length-prefixed byte string; a JS string is written as UTF-8. */
  string(value: Uint8Array | string): this {
    if (typeof value === 'string') {
      const byteLength = Buffer.byteLength(value, 'utf8');
      this.uint32(byteLength);
      this.reserve(byteLength);
      this.length += this.buffer.write(value, this.length, 'utf8');
      return this;
    }
    this.uint32(value.length);
    return this.raw(value);
  }

  /** An mpint from an unsigned big-endian magnitude (leading zeros are dropped, a sign byte added when needed). */
  mpintFromUnsigned(magnitude: Uint8Array): this {
    let start = 0;
    while (start < magnitude.length && magnitude[start] === 0) start++;
    const digits = magnitude.subarray(start);
    const needsSignByte = digits.length > 0 && ((digits[0] ?? 0) & 0x80) !== 0;
    this.uint32(digits.length + (needsSignByte ? 1 : 0));
    if (needsSignByte) this.uint8(0);
    return this.raw(digits);
  }

  /** A string whose content `write` appends (a nested structure), without an intermediate buffer. */
  nested(write: (writer: this) => void): this {
    this.reserve(4);
    const lengthAt = this.length;
    this.length += 4;
    write(this);
    this.buffer.writeUInt32BE(this.length - lengthAt - 4, lengthAt);
    return this;
  }

  nameList(names: readonly string[]): this {
    return this.string(names.join(','));
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  /** The bytes written so far, without copying; only valid until the next write. */
  view(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  /** A copy of the bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

/** Reads SSH wire fields; every read is bounds-checked and throws SshWireFormatError when data runs out. */
export class SshWireReader {
  private offset = 0;

  constructor(private readonly data: Buffer) {}

  get remaining(): number {
    return this.data.length - this.offset;
  }

  /** Bytes consumed so far (used to find where a signed region ends). */
  get position(): number {
    return this.offset;
  }

  uint8(): number {
    this.need(1, 'byte');
    return this.data[this.offset++] as number;
  }

  uint32(): number {
    this.need(4, 'uint32');
    const value = this.data.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  uint64(): bigint {
    this.need(8, 'uint64');
    const value = this.data.readBigUInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  /** A length-prefixed byte string (a view into the input, not a copy). */
  string(field = 'string'): Buffer {
    const length = this.uint32();
    this.need(length, field);
    const value = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** A string that must be valid UTF-8 without NUL bytes (OpenSSH reads these as C strings). */
  text(field = 'text'): string {
    const bytes = this.string(field);
    if (bytes.includes(0)) throw new SshWireFormatError(`${field} contains a NUL byte`);
    const value = bytes.toString('utf8');
    if (!Buffer.from(value, 'utf8').equals(bytes)) throw new SshWireFormatError(`${field} is not valid UTF-8`);
    return value;
  }

  /** A non-negative mpint, returned as its unsigned big-endian magnitude without leading zeros. */
  unsignedMpint(field = 'mpint'): Buffer {
    const bytes = this.string(field);
    if (bytes.length === 0) return bytes;
    const first = bytes[0] as number;
    if (first & 0x80) throw new SshWireFormatError(`${field} is negative`);
    if (first === 0) {
      if (bytes.length === 1 || ((bytes[1] as number) & 0x80) === 0) {
        throw new SshWireFormatError(`${field} has a superfluous leading zero`);
      }
      return bytes.subarray(1);
    }
    return bytes;
  }

  nameList(field = 'name-list'): string[] {
    const value = this.text(field);
    return value === '' ? [] : value.split(',');
  }

  /** Throws unless every byte has been read. */
  end(what: string): void {
    if (this.remaining !== 0) throw new SshWireFormatError(`${what} has ${this.remaining} unexpected trailing bytes`);
  }

  private need(count: number, field: string): void {
    if (count > this.data.length - this.offset) throw new SshWireFormatError(`${field} is truncated`);
  }
}
