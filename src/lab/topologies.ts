/**
 * The lab's networks, as data: namespaces, veths, bridges, addresses, routes and nftables rules
 * that `svr lab up` builds, and the routers it starts in them from the example configurations.
 * Every address is one of the example configurations' own (documentation ranges and the
 * configurations' private LANs), inside namespaces the lab creates.
 */
export interface LabLink {
  /** [namespace, device] at each end of a veth pair. */
  readonly a: readonly [string, string];
  readonly b: readonly [string, string];
}

export interface LabTopology {
  readonly name: 'figure2' | 'chain3';
  /** Example configuration the routers run from (examples/<file>). */
  readonly config: string;
  /** Router name -> namespace. */
  readonly routers: Readonly<Record<string, string>>;
  readonly namespaces: readonly string[];
  readonly links: readonly LabLink[];
  /** Bridges: namespace, bridge name, member devices. */
  readonly bridges: readonly { ns: string; name: string; members: readonly string[] }[];
  /**
   * 802.1Q VLANs over a link: devices <device>.<id> at both ends. A kernel without 8021q gets a
   * veth pair of the same names instead (the router sees the same devices).
   */
  readonly vlans: readonly { readonly link: LabLink; readonly id: number }[];
  /** Addresses of non-router namespaces (routers configure their own from the configuration). */
  readonly addresses: readonly { ns: string; dev: string; cidr: string }[];
  /** `ip route add` arguments per namespace. */
  readonly routes: readonly { ns: string; args: readonly string[] }[];
  readonly forwarding: readonly string[];
  /** Proxy ARP on these [namespace, device]s. */
  readonly proxyArp: readonly (readonly [string, string])[];
  /** nftables rulesets (nft -f) per namespace. */
  readonly nft: readonly { ns: string; ruleset: string }[];
  readonly clientNamespace: string;
  readonly clientAddress: string;
  readonly serverNamespace: string;
  /** The test server's address: HTTP on 80, iperf3 on 5201. */
  readonly serverAddress: string;
}

export const LAB_PREFIX = 'svrlab-';

function nftTable(family: string, ...chains: [name: string, hook: string, rule: string][]): string {
  const body = chains.map(([c, h, r]) => `  chain ${c} {\n    ${h};\n    ${r}\n  }\n`).join('');
  return `table ${family} svrlab {\n${body}}\n`;
}
const ns = (n: string) => `${LAB_PREFIX}${n}`;

/**
 * Figure 2: the client LAN behind East (untagged and VLAN 2), three peer paths to West: MPLS
 * (a direct link, or through a middlebox that drops TCP SYNs carrying payload), Internet through
 * a NAT namespace (nftables source NAT: East's 198.51.100.2 keeps its address, as the configuration
 * has it, but its ports are mapped to 40000-49999, which BFD detects, 5.1.2), and LTE
 * through a carrier router that reaches West's Internet waypoint; the server LAN behind West.
 */
export function figure2Lab(o: { middlebox?: boolean } = {}): LabTopology {
  const [client, east, west, server, nat, carrier, inet, mbox] = [
    'client',
    'east',
    'west',
    'server',
    'nat',
    'carrier',
    'inet',
    'mbox',
  ].map(ns);
  const mpls: LabLink[] = o.middlebox
    ? [
        { a: [east, 'wan0'], b: [mbox, 'to-east'] },
        { a: [mbox, 'to-west'], b: [west, 'wan0'] },
      ]
    : [{ a: [east, 'wan0'], b: [west, 'wan0'] }];
  return {
    name: 'figure2',
    config: 'figure2.yaml',
    routers: { east, west },
    namespaces: [client, east, west, server, nat, carrier, inet, ...(o.middlebox ? [mbox] : [])],
    links: [
      { a: [client, 'eth0'], b: [east, 'lan0'] },
      ...mpls,
      { a: [east, 'wan1'], b: [nat, 'in0'] },
      { a: [nat, 'out0'], b: [inet, 'to-nat'] },
      { a: [west, 'wan1'], b: [inet, 'to-west'] },
      { a: [carrier, 'inet0'], b: [inet, 'to-carrier'] },
      { a: [east, 'wan2'], b: [carrier, 'lte0'] },
      { a: [west, 'lan0'], b: [server, 'eth0'] },
    ],
    bridges: [
      { ns: inet, name: 'br0', members: ['to-nat', 'to-west', 'to-carrier'] },
      ...(o.middlebox ? [{ ns: mbox, name: 'br0', members: ['to-east', 'to-west'] }] : []),
    ],
    vlans: [{ link: { a: [east, 'lan0'], b: [client, 'eth0'] }, id: 2 }],
    addresses: [
      // 10.0.0.10 is in 10.0.0.0/25: tenant engineering by neighbourhood (3.7.1.1).
      { ns: client, dev: 'eth0', cidr: '10.0.0.10/16' },
      { ns: client, dev: 'eth0.2', cidr: '10.0.1.1/24' },
      ...['80', '20', '23', '101', '102', '103'].map((h) => ({
        ns: server,
        dev: 'eth0',
        cidr: `172.15.11.${h}/24`,
      })),
      { ns: nat, dev: 'in0', cidr: '198.51.100.252/32' },
      { ns: nat, dev: 'out0', cidr: '198.51.100.253/24' },
      { ns: carrier, dev: 'lte0', cidr: '192.0.2.254/24' },
      { ns: carrier, dev: 'inet0', cidr: '198.51.100.254/24' },
    ],
    routes: [
      { ns: client, args: ['default', 'via', '10.0.0.1'] },
      { ns: server, args: ['default', 'via', '172.15.11.1'] },
      { ns: nat, args: ['198.51.100.2/32', 'dev', 'in0'] },
    ],
    forwarding: [nat, carrier],
    // East believes West's Internet waypoint is on its link, and West East's: the NAT answers
    // for both, so each side keeps the example configuration's addresses.
    proxyArp: [
      [nat, 'in0'],
      [nat, 'out0'],
    ],
    nft: [
      {
        ns: nat,
        ruleset: nftTable(
          'ip',
          [
            'post',
            'type nat hook postrouting priority srcnat',
            'oifname "out0" meta l4proto { tcp, udp } snat to 198.51.100.2:40000-49999',
          ],
          // A NAT lets in only what answers a mapping made from inside.
          ['forward', 'type filter hook forward priority filter', 'iifname "out0" ct state new counter drop'],
        ),
      },
      ...(o.middlebox
        ? [
            {
              ns: mbox,
              // 2.4: a firewall that drops TCP SYNs carrying data (a SYN over 60 bytes has payload).
              ruleset: nftTable('bridge', [
                'forward',
                'type filter hook forward priority filter',
                'ip length > 60 tcp flags & (syn | ack) == syn counter drop',
              ]),
            },
          ]
        : []),
    ],
    clientNamespace: client,
    clientAddress: '10.0.0.10',
    serverNamespace: server,
    serverAddress: '172.15.11.80',
  };
}

/** examples/chain3.yaml: clients behind A, B in the middle, servers behind C. */
export function chain3Lab(): LabTopology {
  const [client, a, b, c, server] = ['client', 'a', 'b', 'c', 'server'].map(ns);
  return {
    name: 'chain3',
    config: 'chain3.yaml',
    routers: { a, b, c },
    namespaces: [client, a, b, c, server],
    links: [
      { a: [client, 'eth0'], b: [a, 'lan0'] },
      { a: [a, 'wan0'], b: [b, 'wan0'] },
      { a: [b, 'wan1'], b: [c, 'wan0'] },
      { a: [c, 'lan0'], b: [server, 'eth0'] },
    ],
    bridges: [],
    vlans: [],
    addresses: [
      { ns: client, dev: 'eth0', cidr: '172.16.10.5/24' },
      { ns: server, dev: 'eth0', cidr: '172.16.30.80/24' },
    ],
    routes: [
      { ns: client, args: ['default', 'via', '172.16.10.1'] },
      { ns: server, args: ['default', 'via', '172.16.30.1'] },
    ],
    forwarding: [],
    proxyArp: [],
    nft: [],
    clientNamespace: client,
    clientAddress: '172.16.10.5',
    serverNamespace: server,
    serverAddress: '172.16.30.80',
  };
}
