import type { IpAddress } from '../base/address.js';
import { readU32 } from '../base/bytes.js';
import type { DataPlaneContext } from './context.js';
import { planDeltas } from './first-packet.js';
import { pathNextHop } from './routing.js';

/**
 * What the data plane does when peering changes a path under live sessions: the peer's
 * waypoint moved (5.1.3, R-2.11-a). Sessions on the path follow the new address: the wing that
 * arrives from the peer is keyed by the new source, the wing that leaves toward it gets the new
 * destination and next hop, and both wings' checksum deltas are planned again.
 */
export function retargetPath(ctx: DataPlaneContext, pathId: number, address: IpAddress): number {
  const path = ctx.paths.get(pathId);
  if (!path || address.version !== path.localAddress.version) return 0;
  const old = path.remoteAddress;
  ctx.paths.setRemote(pathId, address);
  if (!old) return 0;
  const s = ctx.sessions;
  const key = new Uint32Array(10);
  const hop = pathNextHop(ctx, path);
  let moved = 0;
  for (const id of s.ids()) {
    let touched = false;
    for (const wing of [id * 2, id * 2 + 1]) {
      if (s.outPath(wing) === pathId) {
        s.setWingOut(wing, { path: pathId, keyId: s.outKeyId(wing), nextHop: hop });
        touched = true;
      }
      if (s.inPath(wing) !== pathId) continue;
      // The arriving wing's key starts with the peer's waypoint as its source address.
      s.wingKey(wing, key, 0);
      if (address.version === 4) key[0] = address.v4;
      else for (let i = 0; i < 4; i++) key[i] = readU32(address.v6, 4 * i);
      if (s.rekeyWing(wing, key, 0)) touched = true;
    }
    if (touched) {
      planDeltas(ctx, id);
      moved++;
    }
  }
  return moved;
}
