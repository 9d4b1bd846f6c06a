import { InvalidInputError, pathProblem } from '@aerie/core'

/**
 * Refuses a path that is not inside `where` ("the folder", "the snapshot"): absolute, with '..',
 * '\\', not NFC, … (core's pathProblem), saying why and what to give instead. '' is the root,
 * accepted only where `rootAllowed`. Called before anything is read for the path.
 */
export function checkRelativePath (path: string, options: { field: string, where: string, example: string, rootAllowed: boolean }): void {
  if (path === '' && options.rootAllowed) return
  const problem = pathProblem(path)
  if (problem === undefined) return
  const shown = path.length > 80 ? `${path.slice(0, 80)}…` : path
  throw new InvalidInputError(`${options.field} "${shown}" is not a path inside ${options.where} (${problem}); give it relative to ${options.where}'s root, e.g. "${options.example}"`)
}
