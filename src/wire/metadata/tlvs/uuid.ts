import { z } from 'zod';
import { formatUuid, formatZodError, uuidField } from '../json-fields.js';
import { type SessionUuidTlv, type TlvCodec, TlvType } from '../tlv.js';

const json = z.strictObject({ uuid: uuidField });

/**
 * 7.4.5 Session UUID: 16 raw bytes (D-12). Any 16 bytes are accepted on receipt: the draft's own
 * example ("ABCDEFGHIJKLMNOP") is not an RFC 4122 variant, and the UUID is an identifier, not
 * something svr interprets. svr generates version 4 UUIDs (R-7.4.5-a).
 */
export const sessionUuidCodec: TlvCodec<SessionUuidTlv> = {
  type: TlvType.SessionUuid,
  name: 'Session UUID',
  draftSection: '7.4.5',
  section: 'payload',
  fixedLength: 16,
  valueLength: () => 16,
  write(v, b, o) {
    b.set(v.uuid, o);
  },
  read: (type, b, o) => ({ type, uuid: b.slice(o, o + 16) }),
  toJson: (v) => ({ uuid: formatUuid(v.uuid) }),
  fromJson(type, j) {
    const r = json.safeParse(j);
    return r.success ? { type, uuid: r.data.uuid } : formatZodError(r.error);
  },
};
