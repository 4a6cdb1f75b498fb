export type { GrantAccess, GrantDriver, MappedRegion, SharedRegion } from './driver.js';
export { GrantError, SEAL, sealNames, type GrantErrorCode } from './grant-error.js';
export {
  DEFAULT_GRANT_LIMITS,
  FIRST_GRANT_REF,
  Grant,
  GrantTable,
  MAX_DOMID,
  type GrantHold,
  type GrantLimits,
  type GrantRegionOptions,
  type GrantState,
  type GrantTableOptions,
} from './grant-table.js';
export { hostGrantDriver, sealsOf } from './host-driver.js';
export { Mapping, mapGrant, verifyGrantFd, type MapGrantOptions } from './map-grant.js';
export {
  GNTALLOC_LIMIT_PATH,
  GNTDEV_LIMIT_PATH,
  XEN_PAGE_BYTES,
  checkXenGrantDevice,
  mapXenGrantRefs,
  raiseGntallocLimit,
  xenGrantDriver,
  xenGrantLimits,
  type MapXenGrantRefsOptions,
  type XenGrantLimits,
} from './xen-driver.js';
