import forge from 'node-forge';

/**
 * DER building and reading on node-forge's ASN.1 model. forge keeps byte values as "binary"
 * strings (one char per byte); everything that leaves this file is a Buffer.
 */
export type Asn1 = forge.asn1.Asn1;

const { Class, Type } = forge.asn1;

type FromDerOptions = { strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean };
// @types/node-forge only declares the legacy boolean second argument; forge 1.x takes options.
const fromDer = forge.asn1.fromDer as unknown as (bytes: forge.util.ByteStringBuffer, options: FromDerOptions) => Asn1;

/** Parses one DER value; throws when bytes are left over or the encoding is not strict. */
export function parseDer(der: Buffer): Asn1 {
  // decodeBitStrings off: BIT STRING contents stay raw bytes, so re-encoding is byte-exact.
  return fromDer(forge.util.createBuffer(der.toString('latin1')), {
    strict: true,
    parseAllBytes: true,
    decodeBitStrings: false,
  });
}

export function encodeDer(node: Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(node).getBytes(), 'latin1');
}

/** A SEQUENCE around already-encoded members, so a signed TBS is not encoded a second time. */
export function sequenceOfDer(members: Buffer[]): Buffer {
  const body = Buffer.concat(members);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function sequence(children: Asn1[]): Asn1 {
  return forge.asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, children);
}

export function set(children: Asn1[]): Asn1 {
  return forge.asn1.create(Class.UNIVERSAL, Type.SET, true, children);
}

export function oid(dotted: string): Asn1 {
  return forge.asn1.create(Class.UNIVERSAL, Type.OID, false, forge.asn1.oidToDer(dotted).getBytes());
}

export function nullValue(): Asn1 {
  return forge.asn1.create(Class.UNIVERSAL, Type.NULL, false, '');
}

export function booleanTrue(): Asn1 {
  return forge.asn1.create(Class.UNIVERSAL, Type.BOOLEAN, false, '\xff');
}

export function octetString(bytes: Buffer): Asn1 {
  return forge.asn1.create(Class.UNIVERSAL, Type.OCTETSTRING, false, bytes.toString('latin1'));
}

/** A BIT STRING holding whole bytes (signatures, public keys). */
export function bitStringOfBytes(bytes: Buffer): Asn1 {
  return forge.asn1.create(Class.UNIVERSAL, Type.BITSTRING, false, '\x00' + bytes.toString('latin1'));
}

/** A named-bit BIT STRING (KeyUsage): `bits` are bit numbers, bit 0 being the most significant. */
export function namedBitString(bits: number[]): Asn1 {
  const highest = Math.max(...bits);
  const content = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) content[bit >> 3]! |= 0x80 >> (bit & 7);
  // DER: trailing zero bits are dropped and counted as unused.
  const unused = 7 - (highest & 7);
  return forge.asn1.create(Class.UNIVERSAL, Type.BITSTRING, false, String.fromCharCode(unused) + content.toString('latin1'));
}

export function utf8String(text: string): Asn1 {
  return forge.asn1.create(Class.UNIVERSAL, Type.UTF8, false, forge.util.encodeUtf8(text));
}

/** INTEGER from an unsigned big-endian magnitude, minimally encoded and kept positive. */
export function unsignedInteger(magnitude: Buffer): Asn1 {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  let bytes = magnitude.subarray(start);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return forge.asn1.create(Class.UNIVERSAL, Type.INTEGER, false, bytes.toString('latin1'));
}

export function smallInteger(value: number): Asn1 {
  return forge.asn1.create(Class.UNIVERSAL, Type.INTEGER, false, forge.asn1.integerToDer(value).getBytes());
}

/** `[tag] EXPLICIT` wrapper. */
export function explicitTag(tag: number, child: Asn1): Asn1 {
  return forge.asn1.create(Class.CONTEXT_SPECIFIC, tag, true, [child]);
}

/** `[tag] IMPLICIT OCTET STRING`. */
export function implicitOctets(tag: number, bytes: Buffer): Asn1 {
  return forge.asn1.create(Class.CONTEXT_SPECIFIC, tag, false, bytes.toString('latin1'));
}

const UTC_TIME_FROM = Date.UTC(1950, 0, 1);
const UTC_TIME_UNTIL = Date.UTC(2050, 0, 1);

/** RFC 5280 4.1.2.5: UTCTime for 1950 through 2049, GeneralizedTime otherwise; whole seconds. */
export function time(epochMs: number): Asn1 {
  const date = new Date(epochMs);
  if (epochMs >= UTC_TIME_FROM && epochMs < UTC_TIME_UNTIL) {
    return forge.asn1.create(Class.UNIVERSAL, Type.UTCTIME, false, forge.asn1.dateToUtcTime(date));
  }
  return forge.asn1.create(Class.UNIVERSAL, Type.GENERALIZEDTIME, false, forge.asn1.dateToGeneralizedTime(date));
}

/** Children of a constructed value; throws (caught by callers as "malformed") otherwise. */
export function childrenOf(node: Asn1 | undefined, what: string): Asn1[] {
  if (!node || !Array.isArray(node.value)) throw new Error(`${what} is not a constructed ASN.1 value`);
  return node.value;
}

/** Content bytes of a primitive value. */
export function bytesOf(node: Asn1 | undefined, what: string): Buffer {
  if (!node || typeof node.value !== 'string') throw new Error(`${what} is not a primitive ASN.1 value`);
  return Buffer.from(node.value, 'latin1');
}

export function isUniversal(node: Asn1 | undefined, type: forge.asn1.Type): node is Asn1 {
  return node !== undefined && node.tagClass === Class.UNIVERSAL && node.type === type;
}

export function isContextTag(node: Asn1 | undefined, tag: number): node is Asn1 {
  return node !== undefined && node.tagClass === Class.CONTEXT_SPECIFIC && node.type === tag;
}

export function oidOf(node: Asn1 | undefined, what: string): string {
  if (!isUniversal(node, Type.OID)) throw new Error(`${what} is not an OBJECT IDENTIFIER`);
  return forge.asn1.derToOid(bytesOf(node, what).toString('latin1'));
}

const TELETEX_STRING = 20; // not in forge's Type enum

/** Decodes the string types a Name attribute can carry (UTF8, Printable, IA5, Teletex as Latin-1, BMP). */
export function directoryStringOf(node: Asn1 | undefined, what: string): string {
  const type: number | undefined = node?.type;
  // forge decodes a BMPString (UCS-2) into a JS string while parsing; the others stay bytes.
  if (type === Type.BMPSTRING && node?.tagClass === Class.UNIVERSAL && typeof node.value === 'string') return node.value;
  const raw = bytesOf(node, what);
  switch (type) {
    case Type.UTF8:
      return raw.toString('utf8');
    case Type.PRINTABLESTRING:
    case Type.IA5STRING:
    case TELETEX_STRING:
      return raw.toString('latin1');
    default:
      throw new Error(`${what} is not a directory string`);
  }
}

export function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export { Type as Asn1Type };
