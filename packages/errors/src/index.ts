export { errnoName, errnoNumber, errnoText } from './errno.js';
export { ArgumentError, ErrnoError, VpioError, expectInteger, expectOneOf } from './vpio-error.js';
