import { readdirSync } from 'node:fs';

/** Open descriptors of this process (the directory read's own descriptor excluded by readdir semantics). */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}
