/**
 * The one errno-to-name mapping of vpio. C code returns 0 or a negative
 * errno (Linux and Xen numbering); everything that turns such a number into
 * a user-visible error goes through here.
 */
const ERRNO: Readonly<Record<number, readonly [name: string, text: string]>> = {
  1: ['EPERM', 'operation not permitted'],
  2: ['ENOENT', 'no such file or directory'],
  4: ['EINTR', 'interrupted system call'],
  5: ['EIO', 'input/output error'],
  7: ['E2BIG', 'argument list too long'],
  9: ['EBADF', 'bad file descriptor'],
  11: ['EAGAIN', 'resource temporarily unavailable'],
  12: ['ENOMEM', 'out of memory'],
  13: ['EACCES', 'permission denied'],
  14: ['EFAULT', 'bad address'],
  16: ['EBUSY', 'device or resource busy'],
  17: ['EEXIST', 'already exists'],
  21: ['EISDIR', 'is a directory'],
  22: ['EINVAL', 'invalid argument'],
  24: ['EMFILE', 'too many open files'],
  28: ['ENOSPC', 'no space left'],
  30: ['EROFS', 'read-only'],
  32: ['EPIPE', 'broken pipe'],
  34: ['ERANGE', 'out of range'],
  38: ['ENOSYS', 'function not implemented'],
  39: ['ENOTEMPTY', 'directory not empty'],
  71: ['EPROTO', 'protocol error'],
  75: ['EOVERFLOW', 'value too large'],
  90: ['EMSGSIZE', 'message too long'],
  93: ['EPROTONOSUPPORT', 'protocol not supported'],
  95: ['EOPNOTSUPP', 'operation not supported'],
  104: ['ECONNRESET', 'connection reset by peer'],
  106: ['EISCONN', 'already connected'],
  110: ['ETIMEDOUT', 'timed out'],
  111: ['ECONNREFUSED', 'connection refused'],
};

/** The symbolic name of an errno (sign ignored): 22 and -22 both give 'EINVAL'. */
export function errnoName(errno: number): string {
  const entry = ERRNO[Math.abs(errno)];
  return entry ? entry[0] : `E#${Math.abs(errno)}`;
}

/** A short description of an errno (sign ignored). */
export function errnoText(errno: number): string {
  const entry = ERRNO[Math.abs(errno)];
  return entry ? entry[1] : 'unknown error';
}

/** The errno number of a symbolic name, or undefined. */
export function errnoNumber(name: string): number | undefined {
  for (const [num, [n]] of Object.entries(ERRNO)) if (n === name) return Number(num);
  return undefined;
}
