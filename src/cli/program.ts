import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { configCheck } from './commands/config.js';
import { demo } from './commands/demo.js';
import { fibCommand } from './commands/fib.js';
import { labDownCommand, labStatusCommand, labUpCommand } from './commands/lab.js';
import { metadataDecode, metadataEncode } from './commands/metadata.js';
import { packetDecode } from './commands/packet.js';
import { pkiInitCa, pkiIssue, pkiShow, pkiVerify } from './commands/pki.js';
import { type RunOptions, runCommand } from './commands/run.js';
import { CliError } from './errors.js';

/**
 * `svr`: the command line. Every command prints its result on stdout (text, or JSON with
 * --json), one clear line on stderr for bad input, and exits 0 (ok), 1 (a packet failed a
 * check) or 2 (unusable input or arguments).
 */

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function buildProgram(): Command {
  const program = new Command('svr')
    .description('Secure Vector Routing (draft-menon-svr-02): codecs, tools and router')
    .version(version(), '-V, --version')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(`svr: ${s.replace(/^error: /, '').trim()}\n`) });

  const metadata = program.command('metadata').description('SVR metadata blocks (draft section 7)');
  metadata
    .command('decode')
    .description('decode one metadata block: header fields and every TLV')
    .requiredOption('--hex <hex>', 'the block as hex')
    .option('--cipher-key <hex>', 'AES-128/256 key: payload TLVs are encrypted (D-4)')
    .option('--json', 'print JSON (the form `metadata encode` reads)')
    .action((o: { hex: string; cipherKey?: string; json?: boolean }) => {
      process.stdout.write(metadataDecode(o));
    });
  metadata
    .command('encode')
    .description('encode the JSON form (file, or stdin when omitted or "-") to a hex block')
    .argument('[file]', 'JSON file as `metadata decode --json` prints it')
    .option('--cipher-key <hex>', 'encrypt payload TLVs with AES-128/256-CBC')
    .option('--iv <hex>', '16-byte IV (default: random) for reproducible output')
    .action((file: string | undefined, o: { cipherKey?: string; iv?: string }) => {
      process.stdout.write(metadataEncode(file, o));
    });

  const pki = program
    .command('pki')
    .description('router certificates: the authority CA, router certificates, inspection (5.1.7, D-7)');
  pki
    .command('init-ca')
    .description('create the authority CA: DIR/ca.crt and DIR/ca.key (P-256)')
    .requiredOption('--authority <name>', 'authority name (the CA is "<name> CA")')
    .option('--dir <dir>', 'directory for the files', 'pki')
    .option('--days <n>', 'validity in days (default 3650)')
    .option('--force', 'replace existing files')
    .action((o: { authority: string; dir?: string; days?: string; force?: boolean }) => {
      process.stdout.write(pkiInitCa(o));
    });
  pki
    .command('issue')
    .description('issue a router certificate NAME/AUTHORITY: DIR/NAME.crt and DIR/NAME.key')
    .argument('<name>', 'router/authority, e.g. east/example')
    .option('--dir <dir>', 'directory of the CA and the new files', 'pki')
    .option('--days <n>', 'validity in days (default 365)')
    .option('--force', 'replace existing files')
    .action((name: string, o: { dir?: string; days?: string; force?: boolean }) => {
      process.stdout.write(pkiIssue(name, o));
    });
  pki
    .command('show')
    .description('describe a PEM certificate or key')
    .argument('<file>', 'PEM file')
    .option('--json', 'print JSON')
    .action((file: string, o: { json?: boolean }) => {
      process.stdout.write(pkiShow(file, o.json));
    });
  pki
    .command('verify')
    .description('check a router certificate as a peer would (dates, CA signature, name); exit 1 if refused')
    .argument('<file>', 'PEM router certificate')
    .option('--dir <dir>', 'directory of ca.crt', 'pki')
    .option('--ca <file>', 'CA certificate (instead of DIR/ca.crt)')
    .action((file: string, o: { dir?: string; ca?: string }) => {
      const r = pkiVerify(file, o);
      process.stdout.write(r.stdout);
      process.exitCode = r.exitCode;
    });

  const packet = program.command('packet').description('whole IP packets');
  packet
    .command('decode')
    .description('decode packets: IP, TCP/UDP/ICMP, metadata, HMAC signature validity')
    .option('--hex <hex>', 'one IP packet as hex')
    .option('--pcap <file>', 'a pcap or pcapng capture')
    .option('--cipher-key <hex>', 'metadata cipher key (payload TLVs are encrypted)')
    .addOption(
      new Option('--hmac <method>', 'packets end with an HMAC signature').choices([
        'sha1',
        'sha256-128',
        'sha256',
      ]),
    )
    .option('--hmac-key <hex>', 'HMAC key')
    .option(
      '--time-window <n|auto|none>',
      'time-based HMAC window (floor(unix seconds / 2)); auto: from the capture time or now; none: plain HMAC',
    )
    .option('--json', 'print JSON')
    .action((o: Parameters<typeof packetDecode>[0]) => {
      const r = packetDecode(o);
      process.stdout.write(r.stdout);
      for (const l of r.stderr) process.stderr.write(`svr: ${l}\n`);
      process.exitCode = r.exitCode;
    });

  const config = program.command('config').description('configuration files (docs/configuration.md)');
  config
    .command('check')
    .description('validate a configuration file and summarise it; errors as FILE:LINE:COL: PATH: MESSAGE')
    .argument('<file>', 'YAML configuration file')
    .option('--json', 'print JSON: { ok, authority, routers, warnings }')
    .action((file: string, o: { json?: boolean }) => {
      const r = configCheck(file, o.json === true);
      process.stdout.write(r.stdout);
      for (const l of r.stderr) process.stderr.write(`${l}\n`);
      process.exitCode = r.exitCode;
    });

  program
    .command('fib')
    .description("a router's forwarding information base, like SSR's `show fib` (draft 3.2, 3.3)")
    .requiredOption('--config <file>', 'YAML configuration file')
    .requiredOption('--router <name>', 'router whose FIB to show')
    .option(
      '--json',
      'print JSON: { router, rows: [{ prefix, ports, protocol, tenant, service, action, nextHops }] }',
    )
    .action((o: { config: string; router: string; json?: boolean }) => {
      const r = fibCommand(o.config, o.router, o.json === true);
      process.stdout.write(r.stdout);
      for (const l of r.stderr) process.stderr.write(`${l}\n`);
      process.exitCode = r.exitCode;
    });

  program
    .command('demo')
    .description(
      "the draft's Figure 2 on the emulator: one session step by step, a mix, session tables, wire cost",
    )
    .option('--seed <n>', 'random seed: the same seed reproduces the run exactly', '1')
    .option('--pcap <file>', 'write the WAN capture (MPLS, Internet, LTE links) as a pcap file')
    .option('--no-metadata-encryption', 'leave payload TLVs in clear so Wireshark shows them')
    .action((o: { seed: string; pcap?: string; metadataEncryption: boolean }) => {
      process.stdout.write(demo(o));
    });

  program
    .command('run')
    .description('run a router on this Linux host (root or CAP_NET_ADMIN) until SIGINT/SIGTERM')
    .requiredOption('--config <file>', 'YAML configuration file')
    .requiredOption('--router <name>', 'which router of the configuration this host is')
    .option(
      '--pki <dir>',
      "certificates: DIR/ca.crt, DIR/<router>.crt, DIR/<router>.key (else the router's pki:)",
    )
    .option('--no-offloads', 'turn off TUN checksum and segmentation offloads')
    .option('--status-file <file>', "write the router's status as JSON there once a second")
    .option('--quiet', 'do not print router events')
    .option('--cpu-profile <file>', 'write a V8 CPU profile of the run there on exit (.cpuprofile)')
    .action((o: RunOptions) => {
      runCommand(o);
    });

  const lab = program
    .command('lab')
    .description('the example networks in Linux network namespaces, routed by svr (root)');
  lab
    .command('up')
    .description('build the lab, start its routers and a test server')
    .option('--topology <name>', 'figure2 (East/West, MPLS, Internet via NAT, LTE) or chain3', 'figure2')
    .option('--middlebox', 'figure2: a middlebox on the MPLS path that drops TCP SYNs with payload')
    .option('--config <file>', 'run the routers from this configuration instead of the example')
    .option('--no-offloads', 'routers without TUN offloads')
    .option('--wait <seconds>', 'how long to wait for the peers to come up', '30')
    .action(
      async (o: {
        topology: string;
        middlebox?: boolean;
        config?: string;
        offloads: boolean;
        wait?: string;
      }) => {
        process.stdout.write(await labUpCommand(o));
      },
    );
  lab
    .command('status')
    .description("the lab's namespaces, routers, peer paths; where to run clients")
    .option('--json', 'print JSON (clientNamespace, serverUrl, namespaces, routers)')
    .action((o: { json?: boolean }) => {
      process.stdout.write(labStatusCommand(o));
    });
  lab
    .command('down')
    .description('stop the routers and servers and delete every lab namespace (also after a crash)')
    .action(() => {
      process.stdout.write(labDownCommand());
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are successes; everything else commander rejects is a usage error.
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      )
        return 0;
      return 2;
    }
    if (e instanceof CliError) {
      process.stderr.write(`svr: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
