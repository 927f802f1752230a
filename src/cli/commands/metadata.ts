import { toHex } from '../../base/bytes.js';
import { dropReasonInfo } from '../../base/drop-reason.js';
import {
  blockLengthFor,
  decodeMetadata,
  encodeMetadataBlock,
  metadataSizeError,
  peekMetadataHeader,
} from '../../wire/metadata/block.js';
import { metadataFromJson, metadataToJson } from '../../wire/metadata/json.js';
import { CliError } from '../errors.js';
import { cipherFromOptions, hexOption, readFileOrFail, readStdin } from '../inputs.js';
import { renderMetadata } from '../render.js';

export interface DecodeOptions {
  hex: string;
  cipherKey?: string;
  json?: boolean;
}

/** `svr metadata decode`: one metadata block to its header and TLVs. */
export function metadataDecode(o: DecodeOptions): string {
  const block = hexOption('--hex', o.hex);
  const cipher = cipherFromOptions(o.cipherKey);
  const head = peekMetadataHeader(block, 0, block.length);
  if (typeof head !== 'number' && !cipher && head.payloadLength > 0) {
    // Without a key the block can only be read in clear; say so plainly when its size says
    // it is the encrypted layout (D-4) rather than failing on garbage TLVs.
    const encLen = blockLengthFor(head.headerLength, head.payloadLength, true);
    if (block.length === encLen && encLen !== blockLengthFor(head.headerLength, head.payloadLength, false))
      throw new CliError(
        `metadata: the payload TLVs are encrypted (${block.length} bytes = header ${head.headerLength} + padded payload + 16-byte IV); give --cipher-key`,
      );
  }
  const md = decodeMetadata(block, 0, block.length, cipher);
  if (typeof md === 'number') {
    const i = dropReasonInfo(md);
    throw new CliError(`metadata: ${i.code}: ${i.text} (draft ${i.section})`);
  }
  if (md.blockLength !== block.length)
    throw new CliError(
      `metadata: ${block.length - md.blockLength} bytes follow the ${md.blockLength}-byte block${cipher ? '' : ' (encrypted? give --cipher-key)'}`,
    );
  const j = metadataToJson(md);
  return o.json ? `${JSON.stringify(j, null, 2)}\n` : `${renderMetadata(j).join('\n')}\n`;
}

export interface EncodeOptions {
  cipherKey?: string;
  iv?: string;
}

/** `svr metadata encode [FILE]`: the JSON form (as decode prints it) back to a hex block. */
export function metadataEncode(file: string | undefined, o: EncodeOptions): string {
  const cipher = cipherFromOptions(o.cipherKey, o.iv);
  const raw = file === undefined || file === '-' ? readStdin() : readFileOrFail(file, 'metadata JSON');
  let input: unknown;
  try {
    input = JSON.parse(new TextDecoder().decode(raw));
  } catch (e) {
    throw new CliError(`${file ?? 'stdin'}: not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const md = metadataFromJson(input);
  if (typeof md === 'string') throw new CliError(`${file ?? 'stdin'}: ${md}`);
  const size = metadataSizeError(md);
  if (size) throw new CliError(`${file ?? 'stdin'}: ${size}`);
  return `${toHex(encodeMetadataBlock(md, cipher))}\n`;
}
