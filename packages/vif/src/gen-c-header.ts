/** Build step: writes include/vpio/vif_proto.h from protocol.ts (see c-header.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { C_HEADER_PATH, renderVifProtoHeader } from './c-header.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, C_HEADER_PATH);
const text = renderVifProtoHeader();
let old: string | undefined;
try {
  old = readFileSync(out, 'utf8');
} catch {
  old = undefined;
}
if (old !== text) writeFileSync(out, text);
