import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  EnrollmentError, InvalidCertificateError, InvalidCrlError, RevokedDeviceError, UntrustedPeerError
} from '../../src/errors.ts'
import {
  createCrl, crlFromPem, decodeEnrollmentCode, encodeEnrollmentCode, newEnrollmentSecret, parseCrl, readCsr, readDeviceCertificate,
  verifyDeviceCertificate
} from '../../src/pki/index.ts'
import { createOrg, derToPem, enrollDevice, pemToDer, type Device, type Org } from './fixtures.ts'

// Whatever a peer or a person sends, parsers fail only with the typed errors the callers handle.

const RUNS = { numRuns: 200 }

/** Calls `fn`; passes if it returns or throws one of `allowed`, fails on any other exception. */
function onlyThrows (allowed: Array<new (...args: never[]) => Error>, fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    if (!allowed.some(type => err instanceof type)) throw new Error(`unexpected ${String(err)}`, { cause: err })
  }
}

/** Random byte flips, overwrites, truncation and appended garbage over a valid document. */
function mutated (original: Uint8Array): fc.Arbitrary<Uint8Array> {
  const edit = fc.record({ at: fc.nat(original.length - 1), value: fc.integer({ min: 0, max: 255 }), xor: fc.boolean() })
  return fc.tuple(
    fc.array(edit, { minLength: 1, maxLength: 4 }),
    fc.option(fc.nat(original.length), { nil: undefined }),
    fc.uint8Array({ maxLength: 8 })
  ).map(([edits, cut, tail]) => {
    const bytes = original.slice()
    for (const { at, value, xor } of edits) bytes[at] = xor ? bytes[at]! ^ (1 << (value % 8)) : value
    return new Uint8Array([...bytes.subarray(0, cut ?? bytes.length), ...tail])
  })
}

function mutatedText (original: string): fc.Arbitrary<string> {
  const edit = fc.record({ at: fc.nat(original.length - 1), char: fc.string({ unit: 'binary', minLength: 0, maxLength: 2 }) })
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map(edits =>
    edits.reduce((text, { at, char }) => text.slice(0, at) + char + text.slice(at + 1), original))
}

const randomText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.uint8Array({ maxLength: 600 }).map(bytes => derToPem('CERTIFICATE', bytes)),
  fc.uint8Array({ maxLength: 600 }).map(bytes => derToPem('CERTIFICATE REQUEST', bytes))
)

describe('malformed PKI input', () => {
  let org: Org
  let device: Device
  let certDer: Uint8Array
  let csrDer: Uint8Array
  let crlDer: Uint8Array
  let code: string

  beforeAll(async () => {
    org = await createOrg()
    device = enrollDevice(org)
    certDer = pemToDer(device.certPem)
    csrDer = pemToDer(device.csrPem)
    crlDer = createCrl({ caCertPem: org.certPem, caKey: org.caKey, number: 9, revoked: [{ serial: device.serial, revokedAt: new Date() }] })
    code = encodeEnrollmentCode({ secret: newEnrollmentSecret(), caFingerprint: org.fingerprint, addresses: ['/ip4/10.0.0.1/tcp/4001'] })
  })

  const verify = (certPem: string): unknown => verifyDeviceCertificate({ certPem, caCertPem: org.certPem, peerPublicKeySpki: device.spki })
  const verifyErrors = [InvalidCertificateError, UntrustedPeerError, RevokedDeviceError]

  it('reading or verifying a certificate from random text throws only certificate errors', () => {
    fc.assert(fc.property(randomText, text => {
      onlyThrows([InvalidCertificateError], () => readDeviceCertificate(text))
      onlyThrows(verifyErrors, () => verify(text))
      onlyThrows([InvalidCertificateError], () => readCsr(text))
    }), RUNS)
  })

  it('a mutated certificate is refused with a typed error, or verifies as exactly the original', () => {
    const original = verify(device.certPem)
    fc.assert(fc.property(mutated(certDer), der => {
      const pem = derToPem('CERTIFICATE', der)
      onlyThrows([InvalidCertificateError], () => readDeviceCertificate(pem))
      onlyThrows(verifyErrors, () => expect(verify(pem)).toEqual(original))
    }), RUNS)
  })

  it('mutated certificate PEM text throws only certificate errors', () => {
    fc.assert(fc.property(mutatedText(device.certPem), pem => {
      onlyThrows([InvalidCertificateError], () => readDeviceCertificate(pem))
      onlyThrows(verifyErrors, () => verify(pem))
    }), RUNS)
  })

  it('a mutated CSR is refused with a certificate error, or reads as the original key', () => {
    fc.assert(fc.property(mutated(csrDer), der => {
      onlyThrows([InvalidCertificateError], () => expect(readCsr(derToPem('CERTIFICATE REQUEST', der)).spkiDer).toEqual(device.spki))
    }), RUNS)
  })

  it('random or mutated CRL bytes throw only InvalidCrlError; nothing but the original parses', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated(crlDer)), der => {
      onlyThrows([InvalidCrlError], () => {
        parseCrl(der, org.certPem)
        expect(der).toEqual(crlDer)
      })
    }), RUNS)
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), text => {
      onlyThrows([InvalidCrlError], () => parseCrl(crlFromPem(text), org.certPem))
    }), RUNS)
  })

  it('decoding random or mistyped enrollment codes throws only EnrollmentError', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), mutatedText(code)), text => {
      onlyThrows([EnrollmentError], () => decodeEnrollmentCode(text))
    }), RUNS)
  })
})
