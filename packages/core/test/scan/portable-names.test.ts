import { describe, expect, it } from 'vitest'
import { portabilityProblem } from '../../src/scan/portable-names.ts'
import { useTempFolder } from './fixtures.ts'

// A name Windows cannot hold is reported per file and still recorded: the scan goes on.
describe('names that cannot exist on another OS', () => {
  const folder = useTempFolder()

  it('knows reserved names, forbidden characters and trailing dots', () => {
    for (const path of ['CON', 'docs/aux.txt', 'lpt1', 'a/b:c', 'what?.txt', 'ends.', 'space ', 'tab\tname']) {
      expect(portabilityProblem(path), path).toBeDefined()
    }
    for (const path of ['console.txt', 'docs/auxiliary', 'ünïcödé/名前.txt', '.hidden', 'a.b.c']) {
      expect(portabilityProblem(path), path).toBeUndefined()
    }
  })

  it('reports them and case-only clashes per file, and still records every file', async () => {
    await folder.write('report:final.txt')
    await folder.write('Photo.jpg', 'one')
    await folder.write('photo.jpg', 'two')
    await folder.write('fine.txt')
    const result = await folder.scan()
    expect(result.problems.find(p => p.path === 'report:final.txt')?.message).toMatch(/Windows does not allow/)
    // Whichever of the two the walk meets second is the one reported.
    const clash = result.problems.filter(p => p.path.toLowerCase() === 'photo.jpg')
    expect(clash).toHaveLength(1)
    expect(clash[0]?.message).toMatch(/only in letter case/)
    expect(result.problems).toHaveLength(2)
    for (const path of ['report:final.txt', 'Photo.jpg', 'photo.jpg', 'fine.txt']) expect(folder.local(path)?.deleted).toBe(false)
  })
})
