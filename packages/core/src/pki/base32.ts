/** RFC 4648 base32, lowercase, without padding: readable, case-insensitive, no 0/1/8 look-alikes. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

export function base32Encode (bytes: Uint8Array): string {
  let out = ''
  let value = 0
  let bits = 0
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
    value &= (1 << bits) - 1
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  return out
}

/** Returns undefined for anything an encoder could not have produced, so typos are not silently accepted. */
export function base32Decode (text: string): Uint8Array | undefined {
  const out = new Uint8Array(Math.floor(text.length * 5 / 8))
  let value = 0
  let bits = 0
  let length = 0
  for (let i = 0; i < text.length; i++) {
    const digit = ALPHABET.indexOf(text[i]!)
    if (digit < 0) return undefined
    value = (value << 5) | digit
    bits += 5
    if (bits >= 8) {
      out[length++] = (value >>> (bits - 8)) & 0xff
      bits -= 8
    }
    value &= (1 << bits) - 1
  }
  // Leftover bits are padding: there must be fewer than 5 and all zero, or the text was cut or altered.
  if (bits >= 5 || value !== 0) return undefined
  return out
}
