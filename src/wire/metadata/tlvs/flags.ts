import { z } from 'zod';
import { formatZodError } from '../json-fields.js';
import { type FlagTlv, type TlvCodec, type TlvSection, TlvType } from '../tlv.js';

const json = z.strictObject({});

function flagCodec(
  type: FlagTlv['type'],
  name: string,
  draftSection: string,
  section: TlvSection,
): TlvCodec<FlagTlv> {
  return {
    type,
    name,
    draftSection,
    section,
    fixedLength: 0,
    valueLength: () => 0,
    write: () => {},
    read: (t) => ({ type: t }),
    toJson: () => ({}),
    fromJson(t, j) {
      const r = json.safeParse(j);
      return r.success ? { type: t } : formatZodError(r.error);
    },
  };
}

/** 7.4.8: the payload of this session is encrypted by SVR. */
export const sessionEncryptedCodec = flagCodec(
  TlvType.SessionEncrypted,
  'Session Encrypted',
  '7.4.8',
  'payload',
);
/** 7.4.9: this session's TCP packets travel as UDP on this peer path (4.2.7). */
export const tcpSynPacketCodec = flagCodec(TlvType.TcpSynPacket, 'TCP SYN Packet', '7.4.9', 'payload');
/** 7.3.3: second half of the metadata handshake. */
export const disableForwardMetadataCodec = flagCodec(
  TlvType.DisableForwardMetadata,
  'Disable Forward Metadata',
  '7.3.3',
  'header',
);
