/** IP protocol numbers (IANA) that svr handles. */
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_MOBILITY = 135;
export const IPPROTO_HIP = 139;
export const IPPROTO_SHIM6 = 140;

const NAMES: Record<number, string> = {
  [IPPROTO_ICMP]: 'ICMP',
  [IPPROTO_TCP]: 'TCP',
  [IPPROTO_UDP]: 'UDP',
  [IPPROTO_ICMPV6]: 'ICMPv6',
  [IPPROTO_ESP]: 'ESP',
  [IPPROTO_AH]: 'AH',
  [IPPROTO_NONE]: 'No Next Header',
};

export function protocolName(p: number): string {
  return NAMES[p] ?? `protocol ${p}`;
}
