import { SeededRandom } from '../../src/base/random.js';
import type { Host } from '../../src/emu/host.js';
import type { IpRouter } from '../../src/emu/ip-router.js';
import { Network } from '../../src/emu/network.js';
import type { Segment, SegmentProps } from '../../src/emu/segment.js';

/** Shared scenario pieces for the emulator tests (no tests here). */

/** `n` reproducible pseudo-random bytes. */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  new SeededRandom(seed).fill(out);
  return out;
}

export interface Chain {
  readonly net: Network;
  readonly a: Host;
  readonly b: Host;
  readonly r1: IpRouter;
  readonly r2: IpRouter;
  /** a-r1, r1-r2, r2-b. */
  readonly links: readonly [Segment, Segment, Segment];
}

/**
 * a (10.0.1.10) - r1 - r2 - b (10.0.2.10), every link with `props`; `middle` overrides the
 * r1-r2 link. IPv6 too: 2001:db8:1::10 and 2001:db8:2::10.
 */
export function chain(seed: number, props: SegmentProps = {}, middle: SegmentProps = {}): Chain {
  const net = new Network({ seed });
  const s1 = net.segment('a-r1', props);
  const s2 = net.segment('r1-r2', { ...props, ...middle });
  const s3 = net.segment('r2-b', props);
  const a = net.host('a', {
    interfaces: [
      { segment: s1, address: '10.0.1.10/24', gateway: '10.0.1.1' },
      { segment: s1, address: '2001:db8:1::10/64', gateway: '2001:db8:1::1' },
    ],
  });
  const r1 = net.ipRouter('r1', {
    interfaces: [
      { segment: s1, address: '10.0.1.1/24' },
      { segment: s2, address: '10.0.12.1/24' },
      { segment: s1, address: '2001:db8:1::1/64' },
      { segment: s2, address: '2001:db8:12::1/64' },
    ],
    routes: [
      { prefix: '10.0.2.0/24', via: '10.0.12.2' },
      { prefix: '2001:db8:2::/64', via: '2001:db8:12::2' },
    ],
  });
  const r2 = net.ipRouter('r2', {
    interfaces: [
      { segment: s2, address: '10.0.12.2/24' },
      { segment: s3, address: '10.0.2.1/24' },
      { segment: s2, address: '2001:db8:12::2/64' },
      { segment: s3, address: '2001:db8:2::1/64' },
    ],
    routes: [
      { prefix: '10.0.1.0/24', via: '10.0.12.1' },
      { prefix: '2001:db8:1::/64', via: '2001:db8:12::1' },
    ],
  });
  const b = net.host('b', {
    interfaces: [
      { segment: s3, address: '10.0.2.10/24', gateway: '10.0.2.1' },
      { segment: s3, address: '2001:db8:2::10/64', gateway: '2001:db8:2::1' },
    ],
  });
  return { net, a, b, r1, r2, links: [s1, s2, s3] };
}
