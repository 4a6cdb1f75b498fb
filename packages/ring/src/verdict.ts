/**
 * The validators' verdicts (enum vring_verdict), as string literals. The
 * names and their order come from the generated layout (the C identifiers
 * without VRING_DROP_, lower-cased), never from hand-typed numbers. They are
 * also the per-port drop reasons the switch counts.
 */
import { VRING_VERDICT, VRING_VERDICT_NAMES } from './layout.generated.js';
import { ArgumentError } from '@vpio/errors';

/** 'ok' | 'head' | 'cur' | 'buf_idx' | 'len_zero' | 'len_short' | 'len_long' | 'flags' | 'offload' */
export type Verdict = (typeof VRING_VERDICT_NAMES)[number];

/** Every verdict, indexed by its C value (VERDICTS[0] === 'ok'). */
export const VERDICTS: readonly Verdict[] = VRING_VERDICT_NAMES;

/** Number of verdicts (VRING_VERDICT_COUNT): the length of a drop-counter array. */
export const VERDICT_COUNT: number = VRING_VERDICT.VRING_VERDICT_COUNT;

/** The name of a C verdict value; throws ArgumentError for a value ring.h does not define. */
export function verdictName(value: number): Verdict {
  const name = Number.isInteger(value) ? VERDICTS[value] : undefined;
  if (name === undefined) throw new ArgumentError('verdict', `an integer in [0, ${VERDICT_COUNT - 1}]`, value);
  return name;
}

/** The C value of a verdict name. */
export function verdictValue(verdict: Verdict): number {
  const value = VERDICTS.indexOf(verdict);
  if (value < 0) throw new ArgumentError('verdict', `one of ${VERDICTS.join(', ')}`, verdict);
  return value;
}
