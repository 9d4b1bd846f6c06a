/** Rules for the names people give: they end up in certificates, logs and the CLI's tables. */

// No control, format, private-use or unassigned characters: they hide or reorder text on screen.
const PRINTABLE = /^[^\p{C}]+$/u

/** Completes "the device name …" and similar messages. */
export const NAME_RULE = 'must be 1 to 64 printable characters without leading or trailing spaces'

export function isValidName (name: unknown, maxLength = 64): name is string {
  if (typeof name !== 'string') return false
  const length = [...name].length
  return length >= 1 && length <= maxLength && PRINTABLE.test(name) && name.trim() === name
}

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
// ASCII only: the address goes into an rfc822Name, which is an IA5String.
const EMAIL = new RegExp(`^[A-Za-z0-9.!#$%&'*+/=?^_\`{|}~-]{1,64}@${LABEL}(?:\\.${LABEL})+$`)

export function isValidEmail (email: unknown): email is string {
  return typeof email === 'string' && email.length <= 254 && EMAIL.test(email)
}
