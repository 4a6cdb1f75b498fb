/**
 * @vpio/switch: the data plane of vpio. A VALE-style learning switch in C
 * that copies packets between ports' rings; this module attaches ports,
 * reads counters and, for tests, drives the switch step by step.
 */
export {
  Switch,
  type DropReason,
  type MemoryOwner,
  type PortOptions,
  type PortStats,
  type SwitchClock,
  type SwitchMode,
  type SwitchOptions,
  type SwitchStats,
  type VlanMode,
  type WorkerStats,
} from './switch.js';
export { Capture, type CaptureDirection, type CaptureOptions, type CaptureRead, type CapturedFrame } from './capture.js';
