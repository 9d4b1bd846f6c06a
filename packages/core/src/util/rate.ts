import { InvalidInputError } from '../errors.ts'

const SCALE = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }

/** Rates as people write them in flags and settings: "1M" → 1048576 bytes per second (binary K, M, G); 0 or "off": no limit. */
export function parseRate (text: string): number {
  if (text === 'off' || text === 'none') return 0
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?(?:\/s)?$/i.exec(text.trim())
  if (match === null) throw new InvalidInputError(`"${text}" is not a rate: give bytes per second, e.g. 500K or 2M (binary units), or off`)
  return Math.round(Number(match[1]) * SCALE[match[2]!.toLowerCase() as keyof typeof SCALE])
}
