import { ensureGuestBinary } from '@vpio/netfront/test-utils';

export default function setup(): void {
  ensureGuestBinary();
}
