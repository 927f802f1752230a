import { writeFileSync } from 'node:fs';
import { draftExamplePackets } from '../src/fixtures/draft-example.js';
import { PcapWriter } from '../src/pcap/pcap.js';

/**
 * Writes examples/draft-3.7-handshake.pcap: the draft's worked example session as it appears on
 * the MPLS path. A test regenerates it and compares bytes, so the file never drifts from the code.
 *   node dist/scripts/make-draft-pcap.js
 */
export function draftPcap(): Uint8Array {
  const w = new PcapWriter();
  for (const p of draftExamplePackets()) w.add(p.timestampMs, p.bytes);
  return w.bytes();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = new URL('../../examples/draft-3.7-handshake.pcap', import.meta.url);
  writeFileSync(out, draftPcap());
  process.stdout.write(`wrote ${out.pathname}\n`);
}
