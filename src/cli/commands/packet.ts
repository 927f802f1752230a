import { systemClock } from '../../base/clock.js';
import { DropReason, dropReasonInfo } from '../../base/drop-reason.js';
import { hmacWindow, WindowTracker } from '../../crypto/hmac.js';
import { type InspectOptions, inspectPacket, type PacketJson } from '../../inspect/packet.js';
import { ipOfFrame, readCapture } from '../../pcap/pcap.js';
import { CliError } from '../errors.js';
import {
  cipherFromOptions,
  hexOption,
  hmacFromOptions,
  readFileOrFail,
  timeWindowOption,
} from '../inputs.js';
import { renderPacket } from '../render.js';

export interface PacketDecodeOptions {
  hex?: string;
  pcap?: string;
  cipherKey?: string;
  hmac?: string;
  hmacKey?: string;
  timeWindow?: string;
  json?: boolean;
}

export interface CommandResult {
  stdout: string;
  /** One line per packet that failed a check, for stderr. */
  stderr: string[];
  exitCode: number;
}

/**
 * `svr packet decode`: whole packets, from hex or a capture, with their IP, transport, metadata
 * and signature checks. Exit 0 when every packet passes, 1 when one fails a check (reported in
 * the output and one stderr line each), 2 for unusable input.
 */
export function packetDecode(o: PacketDecodeOptions): CommandResult {
  if ((o.hex === undefined) === (o.pcap === undefined))
    throw new CliError('give exactly one of --hex HEX or --pcap FILE');
  const cipher = cipherFromOptions(o.cipherKey);
  const key = hmacFromOptions(o.hmac, o.hmacKey);
  const tw = timeWindowOption(o.timeWindow ?? 'auto');
  if (o.timeWindow !== undefined && !key) throw new CliError('--time-window needs --hmac and --hmac-key');
  const tracker = new WindowTracker();
  const optionsFor = (timestampMs: number | undefined): InspectOptions => {
    const base: InspectOptions = cipher ? { cipher } : {};
    if (!key) return base;
    const window =
      tw === 'none' ? undefined : tw === 'auto' ? hmacWindow(timestampMs ?? systemClock.now()) : tw;
    return { ...base, hmac: { key, window, tracker } };
  };

  const packets: PacketJson[] = [];
  if (o.hex !== undefined) {
    const bytes = hexOption('--hex', o.hex);
    const p = inspectPacket(bytes, optionsFor(undefined));
    // A single packet that is not even IP is unusable input, not a failed check.
    if (p.ip === null && p.error) {
      const i = p.error;
      throw new CliError(`--hex: not a decodable IP packet: ${i.reason}: ${i.text}`);
    }
    packets.push(p);
  } else if (o.pcap !== undefined) {
    const cap = readCapture(readFileOrFail(o.pcap, 'capture'));
    if (typeof cap === 'string') throw new CliError(`${o.pcap}: ${cap}`);
    for (const rec of cap.records) {
      const f = ipOfFrame(rec.linkType, rec.data);
      if (typeof f === 'string') {
        const p = inspectPacket(new Uint8Array(0), {}, rec.index, rec.timestampMs);
        const ni = dropReasonInfo(DropReason.NotIp);
        p.length = rec.data.length;
        p.error = { reason: ni.code, section: ni.section, text: f };
        packets.push(p);
        continue;
      }
      const p = inspectPacket(f.ip, optionsFor(rec.timestampMs), rec.index, rec.timestampMs);
      if (f.vlan !== undefined) p.vlan = f.vlan;
      packets.push(p);
    }
  }

  const failed = packets.filter((p) => p.error !== null || (p.signature !== null && !p.signature.valid));
  const stderr = failed.map((p) => {
    const e = p.error;
    return `packet ${p.index + 1}: ${e ? `${e.reason}: ${e.text}${e.hint ? ` (${e.hint})` : ''}` : 'HMAC signature invalid'}`;
  });
  const stdout = o.json
    ? `${JSON.stringify({ packets }, null, 2)}\n`
    : `${packets.map((p) => renderPacket(p).join('\n')).join('\n\n')}\n`;
  return { stdout, stderr, exitCode: failed.length > 0 ? 1 : 0 };
}
