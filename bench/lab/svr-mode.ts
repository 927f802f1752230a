import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPair } from '../../src/lab/lab.js';

/**
 * The svr modes of bench:lab: examples/pair.yaml's routers (`svr run`, the Linux TUN driver with
 * offloads) in the east and west namespaces of the chain (chain.ts), with HMAC on metadata
 * packets only or on every packet. `svr run` turns on forwarding and steers the interfaces
 * through its TUN devices; on stop it removes its TUN devices, rules and routes, so the LANs are
 * cut again (run.ts checks).
 */
export async function startSvr(o: {
  hmacEveryPacket: boolean;
  namespaces: { east: string; west: string };
}): Promise<{ stop(): Promise<void>; describe: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'svrb-svr-'));
  try {
    const pair = await startPair({ hmacEveryPacket: o.hmacEveryPacket, namespaces: o.namespaces, dir });
    return {
      describe: `svr (examples/pair.yaml), TUN offloads, HMAC ${o.hmacEveryPacket ? 'on every packet' : 'on metadata packets'}`,
      stop: async () => {
        pair.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
