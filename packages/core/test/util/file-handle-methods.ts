import { open } from 'node:fs/promises'

/** FileHandle's methods (the class is not exported), so that a test can spy on every open file's sync or writev. */
export async function fileHandleMethods (): Promise<{ sync(): Promise<void>, writev(...args: unknown[]): Promise<unknown> }> {
  const probe = await open(import.meta.filename, 'r')
  await probe.close()
  return Object.getPrototypeOf(probe)
}
