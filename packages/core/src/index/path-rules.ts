/**
 * What a path in an index may look like. The index is the last line of defence against a
 * peer's path escaping the folder, so every record is checked here before it is stored.
 */
export const PATH_RULE = "a path must be relative, '/'-separated and NFC, with no empty, '.' or '..' segment, no '\\', no NUL, no drive letter and no segment of only dots and spaces"

/** Why `path` is not an acceptable folder path, or undefined when it is. */
export function pathProblem (path: unknown): string | undefined {
  if (typeof path !== 'string') return 'the path is not a string'
  if (path === '') return 'the path is empty'
  if (!path.isWellFormed()) return 'the path is not valid Unicode'
  if (path.includes('\0')) return 'the path contains a NUL character'
  // A backslash is a separator on Windows: 'a\\..\\b' would escape there.
  if (path.includes('\\')) return "the path contains '\\'"
  if (path.startsWith('/')) return 'the path is absolute'
  if (path.normalize('NFC') !== path) return 'the path is not in Unicode NFC form'
  // 'C:x' is relative to drive C's current directory on Windows, not to the folder.
  if (/^[A-Za-z]:/.test(path)) return 'the path starts with a drive letter'
  for (const segment of path.split('/')) {
    if (segment === '') return 'the path has an empty segment'
    if (segment === '.' || segment === '..') return `the path has a '${segment}' segment`
    // Windows drops trailing dots and spaces, so '.. ' would open '..' there.
    if (/^[. ]+$/.test(segment)) return 'the path has a segment of only dots and spaces'
  }
  return undefined
}

export function isValidPath (path: unknown): path is string {
  return pathProblem(path) === undefined
}
