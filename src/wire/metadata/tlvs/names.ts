import { z } from 'zod';
import { asciiString, isPrintableAscii } from '../../../base/bytes.js';
import { DropReason } from '../../../base/drop-reason.js';
import { asciiName, formatZodError, pemText } from '../json-fields.js';
import { type NameTlv, type SecurityKeyTlv, type TlvCodec, TlvType } from '../tlv.js';

const nameJson = z.strictObject({ name: asciiName });
const keyJson = z.strictObject({ key: pemText });

function writeAscii(s: string, b: Uint8Array, o: number): void {
  for (let i = 0; i < s.length; i++) b[o + i] = s.charCodeAt(i);
}

function nameCodec(type: NameTlv['type'], name: string, draftSection: string): TlvCodec<NameTlv> {
  return {
    type,
    name,
    draftSection,
    section: 'payload',
    fixedLength: undefined,
    valueLength: (v) => v.name.length,
    write: (v, b, o) => writeAscii(v.name, b, o),
    read(t, b, o, len) {
      // "Name (1 - n bytes)", ASCII (D-12): printable only, so names are safe to log.
      if (len < 1 || !isPrintableAscii(b, o, len)) return DropReason.MetadataTlvBadValue;
      return { type: t, name: asciiString(b, o, len) };
    },
    toJson: (v) => ({ name: v.name }),
    fromJson(t, j) {
      const r = nameJson.safeParse(j);
      return r.success ? { type: t, name: r.data.name } : formatZodError(r.error);
    },
  };
}

/** 7.4.6 */
export const tenantNameCodec = nameCodec(TlvType.TenantName, 'Tenant Name', '7.4.6');
/** 7.4.7 */
export const serviceNameCodec = nameCodec(TlvType.ServiceName, 'Service Name', '7.4.7');
/** 7.4.10 */
export const sourceRouterNameCodec = nameCodec(TlvType.SourceRouterName, 'Source Router Name', '7.4.10');
/** 7.4.11 */
export const securityPolicyCodec = nameCodec(TlvType.SecurityPolicy, 'Security Policy', '7.4.11');
/** 7.4.12: the originating router's egress waypoint as text (D-12) or its hostname. */
export const peerPathwayIdCodec = nameCodec(TlvType.PeerPathwayId, 'Peer Pathway ID', '7.4.12');

/** 7.4.15: PEM-style text, so line breaks are allowed besides printable ASCII (D-9). */
export const securityKeyCodec: TlvCodec<SecurityKeyTlv> = {
  type: TlvType.SecurityKey,
  name: 'Security Encryption Key',
  draftSection: '7.4.15',
  section: 'payload',
  fixedLength: undefined,
  valueLength: (v) => v.key.length,
  write: (v, b, o) => writeAscii(v.key, b, o),
  read(type, b, o, len) {
    if (len < 1) return DropReason.MetadataTlvBadValue;
    for (let i = o; i < o + len; i++) {
      const c = b[i];
      if ((c < 0x20 || c > 0x7e) && c !== 0x0a && c !== 0x0d) return DropReason.MetadataTlvBadValue;
    }
    return { type, key: asciiString(b, o, len) };
  },
  toJson: (v) => ({ key: v.key }),
  fromJson(type, j) {
    const r = keyJson.safeParse(j);
    return r.success ? { type, key: r.data.key } : formatZodError(r.error);
  },
};
