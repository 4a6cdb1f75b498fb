/**
 * Renders include/vpio/vif_proto.h from protocol.ts, so C (netfront, minios,
 * linux-netfront) and TypeScript share one definition. `npm run build`
 * writes the file (dist/gen-c-header.js); a test checks that the file in
 * the tree is exactly this output and that a C program compiled against it
 * prints the same values.
 */
import { VIF_KEYS, VIF_LIMITS, VIF_PATHS, XENBUS_STATES } from './protocol.js';

export const C_HEADER_PATH = 'include/vpio/vif_proto.h';

/** camelCase -> UPPER_SNAKE: `txRingRefPrefix` -> `TX_RING_REF_PREFIX`, `InitWait` -> `INIT_WAIT`. */
export function cName(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Every macro of the header: name -> value (string or number), in header order. */
export function cMacros(): Array<{ name: string; value: string | number }> {
  return [
    ...Object.entries(XENBUS_STATES).map(([k, v]) => ({ name: `VIF_STATE_${cName(k)}`, value: v })),
    ...Object.entries(VIF_KEYS).map(([k, v]) => ({ name: `VIF_KEY_${cName(k)}`, value: v })),
    ...Object.entries(VIF_PATHS).map(([k, v]) => ({ name: `VIF_PATH_${cName(k)}`, value: v })),
    ...Object.entries(VIF_LIMITS).map(([k, v]) => ({ name: `VIF_LIMIT_${cName(k)}`, value: v })),
  ];
}

export function renderVifProtoHeader(): string {
  const macros = cMacros();
  const strings = macros.filter((m) => typeof m.value === 'string');
  const numbers = macros.filter((m) => typeof m.value === 'number');
  const def = (m: { name: string; value: string | number }): string =>
    `#define ${m.name} ${typeof m.value === 'string' ? JSON.stringify(m.value) : `${m.value}u`}`;
  return `/* SPDX-License-Identifier: MIT */
/*
 * vpio/vif_proto.h - the vif protocol vocabulary for C: xenbus states,
 * xenstore keys and path pieces, and the limits both ends check.
 *
 * GENERATED from packages/vif/src/protocol.ts by \`npm run build\`
 * (dist/gen-c-header.js). Do not edit: change protocol.ts. A test checks
 * that this file matches the generator and that C sees the same values.
 *
 * Paths: backend  VIF_PATH_LOCAL_DOMAIN "0" VIF_PATH_BACKEND_VIF "<domid>/<n>"
 *        frontend VIF_PATH_LOCAL_DOMAIN "<domid>" VIF_PATH_DEVICE_VIF "<n>"
 *                 (or VIF_PATH_DEVICE_VIF_RELATIVE "<n>" from the guest itself)
 * Keys ending in _PREFIX take a decimal index: "tx-ring-ref" "0".
 * Macros only: no functions, no data.
 */
#ifndef VPIO_VIF_PROTO_H
#define VPIO_VIF_PROTO_H

/* xenbus states (the decimal number is the \`state\` value) */
${numbers.filter((m) => m.name.startsWith('VIF_STATE_')).map(def).join('\n')}

/* keys */
${strings.filter((m) => m.name.startsWith('VIF_KEY_')).map(def).join('\n')}

/* path pieces */
${strings.filter((m) => m.name.startsWith('VIF_PATH_')).map(def).join('\n')}

/* limits */
${numbers.filter((m) => m.name.startsWith('VIF_LIMIT_')).map(def).join('\n')}

/* X-macro lists of every definition above, for tables and tests */
#define VIF_PROTO_STRINGS(X) ${strings.map((m) => `X(${m.name})`).join(' ')}
#define VIF_PROTO_NUMBERS(X) ${numbers.map((m) => `X(${m.name})`).join(' ')}

#endif /* VPIO_VIF_PROTO_H */
`;
}
