/**
 * Packet capture files: classic pcap (written by svr, read by Wireshark and tcpdump) and pcapng
 * (what Wireshark writes by default), both read here. Formats: the libpcap file format
 * (draft-ietf-opsawg-pcap) and pcapng (draft-ietf-opsawg-pcapng).
 */

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;
/** Larger records than this are damage, not packets. */
const MAX_RECORD = 256 * 1024;

export interface CaptureRecord {
  /** Position in the file, from 0. */
  readonly index: number;
  /** Unix time in milliseconds, fractional to the capture's resolution. */
  readonly timestampMs: number;
  readonly linkType: number;
  readonly data: Uint8Array;
  readonly originalLength: number;
}

export interface CaptureFile {
  readonly format: 'pcap' | 'pcapng';
  readonly records: CaptureRecord[];
}

/** Read a whole capture; a string is the reason the bytes are not one. */
export function readCapture(bytes: Uint8Array): CaptureFile | string {
  if (bytes.length < 4) return 'file too short to be a capture';
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = dv.getUint32(0, false);
  if (m === PCAPNG_SHB) return readPcapng(bytes, dv);
  if (m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS) return readPcap(bytes, dv, false, m === PCAP_MAGIC_NS);
  const ml = dv.getUint32(0, true);
  if (ml === PCAP_MAGIC_US || ml === PCAP_MAGIC_NS) return readPcap(bytes, dv, true, ml === PCAP_MAGIC_NS);
  return 'not a pcap or pcapng file (unknown magic number)';
}

function readPcap(bytes: Uint8Array, dv: DataView, le: boolean, nanos: boolean): CaptureFile | string {
  if (bytes.length < 24) return 'pcap file header truncated';
  // The link type is the low 16 bits; above them are reserved bits and the FCS flag (P) and length.
  const linkType = dv.getUint32(20, le) & 0xffff;
  const records: CaptureRecord[] = [];
  let o = 24;
  while (o < bytes.length) {
    if (o + 16 > bytes.length) return `pcap record ${records.length} header truncated at byte ${o}`;
    const sec = dv.getUint32(o, le);
    const frac = dv.getUint32(o + 4, le);
    const incl = dv.getUint32(o + 8, le);
    const orig = dv.getUint32(o + 12, le);
    if (incl > MAX_RECORD) return `pcap record ${records.length} claims ${incl} bytes`;
    if (o + 16 + incl > bytes.length) return `pcap record ${records.length} truncated at byte ${o}`;
    records.push({
      index: records.length,
      timestampMs: sec * 1000 + (nanos ? frac / 1e6 : frac / 1e3),
      linkType,
      data: bytes.subarray(o + 16, o + 16 + incl),
      originalLength: orig,
    });
    o += 16 + incl;
  }
  return { format: 'pcap', records };
}

interface Interface {
  linkType: number;
  /** Seconds per timestamp unit. */
  unit: number;
}

function readPcapng(bytes: Uint8Array, dv: DataView): CaptureFile | string {
  const records: CaptureRecord[] = [];
  let ifaces: Interface[] = [];
  let le = true;
  let o = 0;
  while (o < bytes.length) {
    if (o + 12 > bytes.length) return `pcapng block truncated at byte ${o}`;
    let type = dv.getUint32(o, le);
    if (dv.getUint32(o, false) === PCAPNG_SHB) {
      // A section header sets the byte order for everything up to the next one.
      const bom = dv.getUint32(o + 8, true);
      if (bom === PCAPNG_BOM) le = true;
      else if (dv.getUint32(o + 8, false) === PCAPNG_BOM) le = false;
      else return `pcapng section header at byte ${o} has a bad byte-order magic`;
      type = PCAPNG_SHB;
      ifaces = [];
    }
    const len = dv.getUint32(o + 4, le);
    if (len < 12 || len % 4 !== 0 || o + len > bytes.length || len > MAX_RECORD + 64)
      return `pcapng block at byte ${o} has a bad length ${len}`;
    const body = o + 8;
    const bodyEnd = o + len - 4;
    if (type === 1) {
      if (bodyEnd - body < 8) return `pcapng interface block at byte ${o} truncated`;
      ifaces.push({
        linkType: dv.getUint16(body, le),
        unit: interfaceUnit(bytes, dv, body + 8, bodyEnd, le),
      });
    } else if (type === 6 || type === 2) {
      // Enhanced packet block (6) and the obsolete packet block (2).
      const enhanced = type === 6;
      if (bodyEnd - body < 20) return `pcapng packet block at byte ${o} truncated`;
      const ifId = enhanced ? dv.getUint32(body, le) : dv.getUint16(body, le);
      const iface = ifaces[ifId];
      if (!iface) return `pcapng packet block at byte ${o} names unknown interface ${ifId}`;
      const hi = dv.getUint32(body + 4, le);
      const lo = dv.getUint32(body + 8, le);
      const cap = dv.getUint32(body + 12, le);
      const orig = dv.getUint32(body + 16, le);
      if (body + 20 + cap > bodyEnd) return `pcapng packet block at byte ${o} data overruns the block`;
      records.push({
        index: records.length,
        timestampMs: (hi * 4294967296 + lo) * iface.unit * 1000,
        linkType: iface.linkType,
        data: bytes.subarray(body + 20, body + 20 + cap),
        originalLength: orig,
      });
    } else if (type === 3) {
      const iface = ifaces[0];
      if (!iface) return `pcapng simple packet block at byte ${o} before any interface`;
      if (bodyEnd - body < 4) return `pcapng simple packet block at byte ${o} truncated`;
      const orig = dv.getUint32(body, le);
      const cap = Math.min(orig, bodyEnd - body - 4);
      records.push({
        index: records.length,
        timestampMs: 0,
        linkType: iface.linkType,
        data: bytes.subarray(body + 4, body + 4 + cap),
        originalLength: orig,
      });
    }
    o += len;
  }
  return { format: 'pcapng', records };
}

/** if_tsresol (option 9): 10^-n or 2^-n seconds; microseconds when absent. */
function interfaceUnit(bytes: Uint8Array, dv: DataView, o: number, end: number, le: boolean): number {
  while (o + 4 <= end) {
    const code = dv.getUint16(o, le);
    const len = dv.getUint16(o + 2, le);
    if (code === 0) break;
    if (code === 9 && len >= 1 && o + 4 < end) {
      const v = bytes[o + 4];
      return v & 0x80 ? 2 ** -(v & 0x7f) : 10 ** -v;
    }
    o += 4 + ((len + 3) & ~3);
  }
  return 1e-6;
}

export interface LinkFrame {
  /** The IP packet inside the frame. */
  readonly ip: Uint8Array;
  /** 802.1Q VLAN id of the outermost tag, if any. */
  readonly vlan: number | undefined;
}

/** The IP packet carried in a frame of the given link type; a string says why there is none. */
export function ipOfFrame(linkType: number, f: Uint8Array): LinkFrame | string {
  const ethertype = (t: number, at: number, vlan: number | undefined): LinkFrame | string => {
    if (t === 0x0800 || t === 0x86dd) return { ip: f.subarray(at), vlan };
    if (t === 0x0806) return 'ARP, not IP';
    return `ethertype 0x${t.toString(16).padStart(4, '0')}, not IP`;
  };
  switch (linkType) {
    case LINKTYPE_RAW:
    case 12:
    case 14:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return { ip: f, vlan: undefined };
    case LINKTYPE_NULL:
      if (f.length < 4) return 'loopback frame truncated';
      return { ip: f.subarray(4), vlan: undefined };
    case LINKTYPE_ETHERNET: {
      if (f.length < 14) return 'Ethernet frame truncated';
      let o = 12;
      let vlan: number | undefined;
      let t = (f[o] << 8) | f[o + 1];
      for (let tags = 0; (t === 0x8100 || t === 0x88a8) && tags < 2; tags++) {
        if (o + 6 > f.length) return 'VLAN tag truncated';
        if (vlan === undefined) vlan = ((f[o + 2] << 8) | f[o + 3]) & 0x0fff;
        o += 4;
        t = (f[o] << 8) | f[o + 1];
      }
      return ethertype(t, o + 2, vlan);
    }
    case LINKTYPE_LINUX_SLL:
      if (f.length < 16) return 'Linux cooked frame truncated';
      return ethertype((f[14] << 8) | f[15], 16, undefined);
    case LINKTYPE_LINUX_SLL2:
      if (f.length < 20) return 'Linux cooked v2 frame truncated';
      return ethertype((f[0] << 8) | f[1], 20, undefined);
    default:
      return `link type ${linkType} is not supported`;
  }
}

/**
 * Classic pcap with microsecond timestamps and raw IP frames (LINKTYPE_RAW): what Wireshark
 * opens without asking, and what svr's capture points write.
 */
export class PcapWriter {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  constructor(
    readonly linkType = LINKTYPE_RAW,
    readonly snapLength = 65535,
  ) {
    const h = new Uint8Array(24);
    const dv = new DataView(h.buffer);
    dv.setUint32(0, PCAP_MAGIC_US, true);
    dv.setUint16(4, 2, true);
    dv.setUint16(6, 4, true);
    dv.setUint32(16, snapLength, true);
    dv.setUint32(20, linkType, true);
    this.push(h);
  }

  /** Append one packet (copied) stamped with Unix time in milliseconds. */
  add(timestampMs: number, packet: Uint8Array): void {
    const cap = Math.min(packet.length, this.snapLength);
    const r = new Uint8Array(16 + cap);
    const dv = new DataView(r.buffer);
    const us = Math.round(timestampMs * 1000);
    dv.setUint32(0, Math.floor(us / 1e6), true);
    dv.setUint32(4, us % 1e6, true);
    dv.setUint32(8, cap, true);
    dv.setUint32(12, packet.length, true);
    r.set(packet.subarray(0, cap), 16);
    this.push(r);
  }

  get byteLength(): number {
    return this.size;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }

  private push(c: Uint8Array): void {
    this.chunks.push(c);
    this.size += c.length;
  }
}
