import type { DeviceCredentials } from './devices.ts'

/** What the transport benchmark's two processes say to each other over the IPC channel. */
export const BENCH_PROTOCOL = '/aerie/bench/transport/1.0.0'

/** The receiver writes this one byte back when it holds every byte it was told to expect. */
export const ACK = Uint8Array.of(0x06)

/** The only TLS 1.3 suite offered, so TLS does AES-256-GCM like Aerie's records. */
export const TLS_SUITE = 'TLS_AES_256_GCM_SHA384'

export type ToReceiver =
  | { type: 'start', credentials: DeviceCredentials, bytes: number }
  | { type: 'stop' }

export type FromReceiver =
  | { type: 'ready', tcpPort: number, tlsPort: number, aerieAddress: string }
  /** Bytes received so far over all connections, for the sender's stall watchdog. */
  | { type: 'progress', bytes: number }
  | { type: 'failed', message: string }
