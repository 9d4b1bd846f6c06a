import { fileURLToPath } from 'node:url'
import { InvalidInputError } from '@aerie/core'
import { startControlServer } from '../control-server.ts'
import { ensureUiSecret } from './ui-secret.ts'
import { startUiServer } from './ui-server.ts'
import type { DeviceHome } from '../device-home.ts'

/**
 * First run: a device that is not enrolled has no certificate, so no agent can run. `aerie run`
 * then serves only the UI, with its Enroll screen, behind the same secret, Host and Origin
 * checks as always (`aerie ui` prints the link; the control API answers just that and stop).
 * Once the code is accepted, this closes and the real agent starts on the same UI port, so the
 * open page carries on.
 */
export interface EnrollUiInit {
  home: DeviceHome
  /** Enrolls with a code (the CLI's `enrollDevice`); returns who this device now is. */
  enroll(code: string, name: string | undefined): Promise<{ deviceId: string, deviceName: string, user: string }>
  log(line: string): void
}

export interface EnrollUi {
  url: string
  port: number
  /** Resolves true once enrolled, false when asked to stop first. */
  done: Promise<boolean>
  stop(): void
  close(): Promise<void>
}

const UI_DIR = fileURLToPath(new URL('../../browser/', import.meta.url))

export async function startEnrollUi ({ home, enroll, log }: EnrollUiInit): Promise<EnrollUi> {
  await home.ensure()
  let finish: (enrolled: boolean) => void = () => {}
  const done = new Promise<boolean>(resolve => { finish = resolve })
  let enrolling = false
  const ui = await startUiServer({
    secret: await ensureUiSecret(home),
    staticDir: UI_DIR,
    snapshot: async () => ({ enrolled: false }),
    subscribe: () => () => {},
    routes: {
      'GET /api/v1/status': async () => ({ enrolled: false }),
      'POST /api/v1/enroll': async ({ body }) => {
        const { code, name } = (body ?? {}) as { code?: unknown, name?: unknown }
        if (typeof code !== 'string' || code.trim() === '') throw new InvalidInputError('paste the enrollment code your administrator gave you')
        if (enrolling) throw new InvalidInputError('an enrollment is already under way; wait for it')
        enrolling = true
        try {
          const identity = await enroll(code, typeof name === 'string' ? name : undefined)
          log(`enrolled ${identity.deviceName} (${identity.deviceId}) for ${identity.user}; starting the agent`)
          // After this answer has gone out.
          setImmediate(() => { finish(true) })
          return { enrolled: true, ...identity }
        } finally {
          enrolling = false
        }
      }
    }
  })
  const control = await startControlServer(home, {
    'GET /v1/ui': async () => ({ url: ui.url }),
    'POST /v1/stop': async () => { setImmediate(() => { finish(false) }); return { stopping: true } }
  })
  log(`this device is not enrolled yet: open the UI to enroll it with a code. UI at ${ui.url}/ (\`aerie ui\` prints the link that opens it)`)
  return {
    url: ui.url,
    port: Number(new URL(ui.url).port),
    done,
    stop: () => { finish(false) },
    async close () {
      await control.close()
      await ui.close()
    }
  }
}
